//! The render stage: a flow set written in the formats engineers apply.
//! One file per format, all behind one small trait.

use portplan_model::{Addr, FlowSet};

mod cloud_groups;
mod common;
mod host;
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
