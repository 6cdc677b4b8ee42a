//! The render stage: a flow set written in the formats engineers apply.
//! One file per format, all behind one small trait.

use portplan_model::{Addr, FlowSet, PortRange};

mod cloud_groups;
mod common;
mod host;
pub mod picture;
mod prepare;
mod tf;

mod aws_terraform;
mod azure_terraform;
mod cisco_asa;
mod cisco_ios;
mod dot;
mod gcp_terraform;
mod iptables;
mod junos;
mod k8s;
mod mermaid;
mod nftables;
mod panos;
mod windows;

/// The host a host firewall (nftables, iptables, Windows) is written for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostView {
    /// The name the user gave (`--for-host`).
    pub name: String,
    /// The host's addresses, as the deployment places it.
    pub addrs: Vec<Addr>,
}

/// Options shared by all formats.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Required by host-firewall formats; ignored by the others.
    pub for_host: Option<HostView>,
    /// Every host and network the deployment names, with its addresses.
    /// Merged flows list several hosts on one side; formats that write one
    /// object per host (a security group per instance, a box per host in a
    /// picture) split the sides back with it. Empty when unknown.
    pub directory: Vec<HostView>,
    /// Host firewalls: filter outbound too (`--egress`). By default they
    /// filter inbound only and leave outbound open, as their headers say.
    pub egress: bool,
    /// Host firewalls: where the host is administered from. Its ports are
    /// opened before any other rule; without it the output warns, at its
    /// top and in `Rendered.unexpressed`, that it cuts remote access.
    pub management: Option<Management>,
}

/// The management path of the deployment (`management:`, `--management`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Management {
    /// Addresses and networks administrators connect from.
    pub from: Vec<Addr>,
    /// Their names, for comments (`admins`, `10.9.0.0/24`).
    pub labels: Vec<String>,
    /// TCP ports; empty means the format's default (SSH 22; on Windows
    /// also RDP 3389 and WinRM 5985/5986).
    pub ports: Vec<PortRange>,
}

/// Something of the plan a format cannot express. Never dropped silently:
/// the CLI lists these on stderr (and `--strict` fails), and the renderer
/// also writes each as a comment in its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unexpressed {
    /// Requirement ids of the flow (`cisco-ise/psn-radius`).
    pub requirements: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub text: String,
    pub unexpressed: Vec<Unexpressed>,
}

/// One output format.
pub trait Renderer {
    fn name(&self) -> &'static str;
    /// The usual file extension of the format, without the dot: the file
    /// name when one run writes several formats into a folder.
    fn extension(&self) -> &'static str;
    /// Whether the format is a host firewall (needs `for_host`).
    fn per_host(&self) -> bool {
        false
    }
    fn render(&self, flows: &FlowSet, opts: &RenderOptions) -> Result<Rendered, String>;
}

/// Every format's name, in the order `--help` lists them. The data formats
/// (table, json, csv, md) belong to the plan command, not to this stage.
pub fn formats() -> Vec<&'static str> {
    registry().iter().map(|r| r.name()).collect()
}

/// The renderer for a format name.
pub fn renderer(name: &str) -> Option<Box<dyn Renderer>> {
    registry().into_iter().find(|r| r.name() == name)
}

fn registry() -> Vec<Box<dyn Renderer>> {
    vec![
        Box::new(nftables::Nftables),
        Box::new(iptables::Iptables),
        Box::new(cisco_ios::CiscoIos),
        Box::new(cisco_asa::CiscoAsa),
        Box::new(junos::Junos),
        Box::new(panos::Panos),
        Box::new(aws_terraform::AwsTerraform),
        Box::new(azure_terraform::AzureTerraform),
        Box::new(gcp_terraform::GcpTerraform),
        Box::new(k8s::K8s),
        Box::new(windows::Windows),
        Box::new(mermaid::Mermaid),
        Box::new(dot::Dot),
    ]
}
