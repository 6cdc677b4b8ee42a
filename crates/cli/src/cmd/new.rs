//! `portplan new PRODUCT...`: a commented deployment skeleton for the chosen
//! products, so nobody has to learn the file format from a JSON Schema.
//!
//! The skeleton is valid YAML and places every role the default plan needs on
//! a placeholder host or network from the documentation ranges (RFC 5737), so
//! `portplan check` on it runs at once and reports only what the user must
//! still decide (parameters without a default). Ports are never guessed.

use super::catalog::product;
use super::{Failure, Global, Outcome};
use crate::out;
use portplan_model::catalog::{Product, Requirement, Role, RoleKind};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Catalog product ids (`portplan catalog list`), one or more.
    #[arg(value_name = "PRODUCT", required = true)]
    pub products: Vec<String>,
    /// Switch on optional features and place the roles they need
    /// (`--with posture,guest-portal`; `PRODUCT/FEATURE` when two products
    /// have a feature of that name).
    #[arg(long, value_name = "FEATURE", value_delimiter = ',')]
    pub with: Vec<String>,
    /// The deployment's name (used in rule comments and reports).
    #[arg(long, default_value = "my-deployment")]
    pub name: String,
    /// `yaml`: the commented skeleton to edit; `json`: the same deployment
    /// as data, without the comments (for scripts that fill it in).
    #[arg(long, short = 'f', value_enum, default_value_t = Format::Yaml)]
    pub format: Format,
    /// Write to this file instead of stdout (refuses to overwrite one).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

pub fn run(args: Args, g: &Global) -> Outcome {
    let cat = g.catalog()?;
    let mut products: Vec<&Product> = Vec::new();
    for id in &args.products {
        let p = product(&cat, id)?;
        if products.iter().any(|q| q.product == p.product) {
            return Err(Failure::Message(format!("product `{id}` is named twice")));
        }
        products.push(p);
    }
    if !is_name(&args.name) {
        return Err(Failure::Message(format!(
            "--name `{}`: use letters, digits, `-`, `_` and `.` (it becomes a YAML value and a rule comment)",
            args.name
        )));
    }
    let on = features_on(&products, &args.with)?;
    let mut text = skeleton(&args.name, &products, &on)?;
    if let Format::Json = args.format {
        // YAML's data model holds JSON's: the skeleton read back is the
        // same deployment without its comments.
        let value: serde_json::Value = serde_norway::from_str(&text)
            .map_err(|e| Failure::Message(format!("cannot turn the skeleton into JSON: {e}")))?;
        text = super::catalog::pretty_json(&value)?;
    }
    if let Some(path) = args.output.as_deref().filter(|p| p.as_os_str() != "-") {
        if path.exists() {
            return Err(Failure::Message(format!(
                "{} exists: not overwritten (remove it or pick another name)",
                path.display()
            )));
        }
        out::emit(&text, Some(path))?;
        eprintln!(
            "wrote {}: fill in the addresses (and any value marked REQUIRED), then `portplan check {}`",
            path.display(),
            path.display()
        );
    } else {
        out::emit(&text, None)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `--with` resolved: (product, feature) pairs to switch on.
type On = BTreeSet<(String, String)>;

fn features_on(products: &[&Product], with: &[String]) -> Result<On, Failure> {
    let mut on = On::new();
    for w in with {
        let (want_product, feature) = match w.split_once('/') {
            Some((p, f)) => (Some(p), f),
            None => (None, w.as_str()),
        };
        let owners: Vec<&&Product> = products
            .iter()
            .filter(|p| want_product.is_none_or(|w| w == p.product))
            .filter(|p| p.feature(feature).is_some())
            .collect();
        match owners.as_slice() {
            [p] => {
                on.insert((p.product.clone(), feature.to_string()));
            }
            [] => {
                let known: Vec<String> = products
                    .iter()
                    .flat_map(|p| {
                        p.features
                            .iter()
                            .map(move |f| format!("{}/{}", p.product, f.id))
                    })
                    .collect();
                let (m, h) =
                    portplan_model::diag::unknown("feature", w, known.iter().map(String::as_str));
                let h = portplan_model::diag::did_you_mean(
                    feature,
                    products
                        .iter()
                        .flat_map(|p| p.features.iter().map(|f| f.id.as_str())),
                )
                .map_or(h, |c| format!("did you mean `{c}`?"));
                return Err(Failure::Message(format!("--with: {m}\n  help: {h}")));
            }
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|p| format!("`{}/{feature}`", p.product))
                    .collect();
                return Err(Failure::Message(format!(
                    "--with: feature `{feature}` belongs to several products: write {}",
                    names.join(" or ")
                )));
            }
        }
    }
    Ok(on)
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Where a role is placed in the skeleton.
enum Place {
    /// Its own fixed endpoints (`app.strongdm.com`): nothing to place.
    Endpoints,
    /// Needed by the plan with the defaults: placed on placeholder entries.
    Needed(Vec<String>),
    /// Only needed by features that are off (or choices not made): a
    /// commented-out line, with what would need it.
    Optional(Vec<String>),
    /// No requirement names it.
    Unused,
}

/// Placeholder addresses: hosts from 192.0.2.0/24, networks as /28s of
/// 198.51.100.0/24 and 203.0.113.0/24 (RFC 5737 documentation ranges, which
/// never route, so an unedited skeleton cannot open a real address).
struct Addresses {
    hosts: u32,
    networks: u32,
}

impl Addresses {
    fn host(&mut self) -> Result<String, Failure> {
        self.hosts += 1;
        if self.hosts > 250 {
            return Err(Failure::Message(
                "more than 250 placeholder hosts: write the deployment in parts".into(),
            ));
        }
        Ok(format!("192.0.2.{}", 9 + self.hosts))
    }
    fn network(&mut self) -> Result<String, Failure> {
        let n = self.networks;
        self.networks += 1;
        let (base, i) = match n {
            0..=15 => ("198.51.100", n),
            16..=31 => ("203.0.113", n - 16),
            _ => {
                return Err(Failure::Message(
                    "more than 32 placeholder networks: write the deployment in parts".into(),
                ))
            }
        };
        Ok(format!("{base}.{}/28", i * 16))
    }
}

/// Whether a requirement is in the plan when the deployment says nothing:
/// no feature or a feature on by default, and every choice it needs is the
/// choice's default.
fn on_by_default(p: &Product, r: &Requirement, on: &On) -> bool {
    let feature_on = r.feature.as_deref().is_none_or(|f| {
        p.feature(f).is_some_and(|f| f.default) || on.contains(&(p.product.clone(), f.to_string()))
    });
    let choices_hold = r.when.as_ref().is_none_or(|w| {
        w.choice
            .iter()
            .all(|(c, o)| p.choice(c).and_then(|c| c.default.as_deref()) == Some(o.as_str()))
    });
    feature_on && choices_hold
}

/// What would put a requirement in the plan: `feature X`, `choice c: o`.
fn needs(r: &Requirement) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(f) = &r.feature {
        v.push(format!("feature `{f}`"));
    }
    if let Some(w) = &r.when {
        v.extend(w.choice.iter().map(|(c, o)| format!("choice `{c}: {o}`")));
    }
    v
}

fn placement(p: &Product, role: &Role, on: &On) -> Place {
    if !role.endpoints.is_empty() {
        return Place::Endpoints;
    }
    let uses: Vec<&Requirement> = p
        .requirements
        .iter()
        .filter(|r| r.from.iter().chain(r.to.iter()).any(|x| x == &role.id))
        .collect();
    if uses.is_empty() {
        return Place::Unused;
    }
    let by_default: BTreeSet<&str> = uses
        .iter()
        .filter(|r| on_by_default(p, r, on))
        .map(|r| r.id.as_str())
        .collect();
    if by_default.is_empty() {
        let why: BTreeSet<String> = uses.iter().flat_map(|r| needs(r)).collect();
        Place::Optional(why.into_iter().collect())
    } else {
        Place::Needed(by_default.into_iter().map(String::from).collect())
    }
}

/// People's machines and devices come in numbers: a network. The rest are
/// servers: a host.
fn is_network(kind: RoleKind) -> bool {
    matches!(kind, RoleKind::Client | RoleKind::Device)
}

/// One line of a list, shortened for a comment.
fn short(items: &[String], max: usize) -> String {
    if items.len() <= max {
        items.join(", ")
    } else {
        format!("{}, … ({} in all)", items[..max].join(", "), items.len())
    }
}

/// A comment-safe one-liner (no newlines in a YAML comment).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn skeleton(name: &str, products: &[&Product], on: &On) -> Result<String, Failure> {
    let ids: Vec<&str> = products.iter().map(|p| p.product.as_str()).collect();
    let mut addrs = Addresses {
        hosts: 0,
        networks: 0,
    };
    // Entry names must be unique across products: prefix with the product
    // when two products share a role id.
    let mut role_count: BTreeMap<&str, usize> = BTreeMap::new();
    for p in products {
        for r in &p.roles {
            *role_count.entry(r.id.as_str()).or_default() += 1;
        }
    }
    let mut hosts = String::new();
    let mut networks = String::new();
    let mut sections = String::new();
    for p in products {
        let _ = writeln!(hosts, "  # {}", p.name);
        let _ = writeln!(networks, "  # {}", p.name);
        let section = product_section(p, &role_count, on, &mut addrs, &mut hosts, &mut networks)?;
        sections.push_str(&section);
    }
    let mut y = String::new();
    let _ = writeln!(
        y,
        "# A deployment of {}, written by `portplan new {}`.",
        products
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
        ids.join(" ")
    );
    y.push_str(
        "# Replace the placeholder addresses (192.0.2.x, 198.51.100.x, 203.0.113.x are\n\
         # documentation ranges that route nowhere) with yours, give every value marked\n\
         # REQUIRED, delete what you do not run, then:\n\
         #   portplan check FILE                        # every error at once, with file:line\n\
         #   portplan plan FILE                         # the flows this deployment needs\n\
         #   portplan plan FILE -f nftables --for-host HOST   # or cisco-asa, aws-terraform, csv...\n\
         # The format: README, \"The deployment file\"; JSON Schema: `portplan catalog schema --deployment`.\n\n",
    );
    let _ = writeln!(y, "name: {name}");
    y.push_str("description: what runs where (free text, shown in reports)\n\n");
    y.push_str(
        "# Named hosts: name -> an address, a list of addresses (IPv4/IPv6) or a DNS name.\n\
         # A host may play roles of several products.\nhosts:\n",
    );
    y.push_str(&hosts);
    y.push_str(
        "\n# Named networks and outside parties: name -> CIDRs or addresses (`any` is the Internet).\nnetworks:\n",
    );
    y.push_str(&networks);
    // Host firewalls keep remote administration open from here, so a file
    // written from an unedited skeleton cannot lock anyone out.
    // A role may already hold the plain name.
    let mgmt = (1..)
        .map(|i| match i {
            1 => "management-net".to_string(),
            n => format!("management-net-{n}"),
        })
        .find(|n| !networks.contains(&format!("\n  {n}:")) && !hosts.contains(&format!("\n  {n}:")))
        .unwrap_or_default();
    y.push_str(&format!(
        "  # Where the hosts are administered from (see management: below)\n  {mgmt}: {}\n",
        addrs.network()?
    ));
    y.push_str(&format!(
        "\n# Host firewalls (nftables, iptables, Windows) keep SSH (Windows: RDP and WinRM)\n\
         # open from here before anything else, so applying them cannot cut your access.\n\
         management:\n  from: [{mgmt}]\n"
    ));
    y.push_str("\nproducts:\n");
    y.push_str(&sections);
    Ok(y)
}

fn product_section(
    p: &Product,
    role_count: &BTreeMap<&str, usize>,
    on: &On,
    addrs: &mut Addresses,
    hosts: &mut String,
    networks: &mut String,
) -> Result<String, Failure> {
    let mut s = String::new();
    let by = if p.name.contains(&p.vendor) {
        String::new()
    } else {
        format!(", by {}", p.vendor)
    };
    let _ = writeln!(s, "  - product: {}   # {}{by}", p.product, p.name);
    features(p, on, &mut s);
    choices(p, &mut s);
    parameters(p, on, &mut s);
    let _ = writeln!(
        s,
        "    # Roles: who plays each part, as names from hosts:/networks:, addresses or CIDRs."
    );
    s.push_str("    roles:\n");
    let mut placed_any = false;
    for role in &p.roles {
        let entry = if role_count.get(role.id.as_str()).copied().unwrap_or(0) > 1 {
            format!("{}-{}", p.product, role.id)
        } else {
            role.id.clone()
        };
        let what = format!("{} ({})", one_line(&role.name), role.kind.as_str());
        match placement(p, role, on) {
            Place::Endpoints => {
                let _ = writeln!(
                    s,
                    "      # {}: {}   # {what}; fixed endpoints, nothing to place",
                    role.id,
                    short(&role.endpoints, 4)
                );
            }
            Place::Needed(reqs) => {
                placed_any = true;
                let entry_name = if is_network(role.kind) {
                    format!("{entry}-net")
                } else {
                    format!("{entry}-1")
                };
                if is_network(role.kind) {
                    let _ = writeln!(networks, "  {entry_name}: {}", addrs.network()?);
                } else {
                    let _ = writeln!(hosts, "  {entry_name}: {}", addrs.host()?);
                }
                let _ = writeln!(s, "      # {what}; needed by {}", short(&reqs, 4));
                let _ = writeln!(s, "      {}: [{entry_name}]", role.id);
            }
            Place::Optional(why) => {
                let why = if why.is_empty() {
                    "a condition on other roles".to_string()
                } else {
                    short(&why, 3).replace(", ", " or ")
                };
                let _ = writeln!(s, "      # {what}; only with {why}:");
                let _ = writeln!(s, "      # {}: [HOST-OR-NETWORK]", role.id);
            }
            Place::Unused => {
                let _ = writeln!(s, "      # {what}; no requirement uses it");
            }
        }
    }
    if !placed_any {
        // `roles:` must stay a map: an empty one is `{}`.
        s = s.replacen("    roles:\n", "    roles: {}\n", 1);
    }
    overrides(p, &mut s);
    Ok(s)
}

fn features(p: &Product, on: &On, s: &mut String) {
    if p.features.is_empty() {
        return;
    }
    let defaults: Vec<&str> = p
        .features
        .iter()
        .filter(|f| f.default)
        .map(|f| f.id.as_str())
        .collect();
    s.push_str("    # Features: optional parts. List the ones you run under `features:`;\n");
    s.push_str("    # switch off one that is on by default with `without: [ID]`.\n");
    for f in &p.features {
        let state = if on.contains(&(p.product.clone(), f.id.clone())) {
            "on: --with"
        } else if f.default {
            "on by default"
        } else {
            "off"
        };
        let _ = writeln!(s, "    #   {} ({state}): {}", f.id, one_line(&f.name));
    }
    let chosen: Vec<&str> = p
        .features
        .iter()
        .filter(|f| on.contains(&(p.product.clone(), f.id.clone())))
        .map(|f| f.id.as_str())
        .collect();
    let _ = writeln!(s, "    features: [{}]", chosen.join(", "));
    if defaults.is_empty() {
        s.push_str("    # without: []\n");
    } else {
        s.push_str("    without: []   # e.g. [");
        s.push_str(defaults[0]);
        s.push_str("]\n");
    }
}

fn choices(p: &Product, s: &mut String) {
    if p.choices.is_empty() {
        return;
    }
    s.push_str("    # Choices: exactly one option holds; the default when you say nothing.\n");
    let live = p.choices.iter().any(|c| c.default.is_some());
    s.push_str(if live {
        "    choices:\n"
    } else {
        "    # choices:\n"
    });
    for c in &p.choices {
        let options: Vec<&str> = c.options.iter().map(|o| o.id.as_str()).collect();
        match &c.default {
            Some(d) => {
                let _ = writeln!(
                    s,
                    "      {}: {d}   # {}: one of {}",
                    c.id,
                    one_line(&c.name),
                    options.join(", ")
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    "    #   {}: OPTION   # {}: one of {}; no default (check says when it is needed)",
                    c.id,
                    one_line(&c.name),
                    options.join(", ")
                );
            }
        }
    }
}

fn parameters(p: &Product, on: &On, s: &mut String) {
    if p.parameters.is_empty() {
        return;
    }
    // A parameter the default plan needs and the catalog gives no value for
    // must be written by the user: portplan never guesses a port, and
    // `check` names each one that is missing.
    let needed: BTreeSet<&str> = p
        .requirements
        .iter()
        .filter(|r| on_by_default(p, r, on))
        .flat_map(|r| r.params())
        .collect();
    s.push_str("    # Parameters: ports you can configure. Uncomment `parameters:` and the lines you set.\n");
    s.push_str("    # parameters:\n");
    for par in &p.parameters {
        let range = par
            .allowed
            .map(|a| format!("; allowed {a}"))
            .unwrap_or_default();
        let what = one_line(&par.name);
        let line = match par.default {
            Some(d) => format!("    #   {}: {d}   # {what}; default {d}{range}", par.id),
            None if needed.contains(par.id.as_str()) => format!(
                "    #   {}: PORT   # REQUIRED: {what}; no default{range} (or per target, under overrides)",
                par.id
            ),
            None => format!(
                "    #   {}: PORT   # {what}; no default{range}; needed only by features that are off",
                par.id
            ),
        };
        s.push_str(&line);
        s.push('\n');
    }
}

fn overrides(p: &Product, s: &mut String) {
    // An example on a requirement whose port may differ per target, else on
    // any requirement with ports.
    let example = p
        .requirements
        .iter()
        .find(|r| r.per_target)
        .or_else(|| p.requirements.iter().find(|r| !r.ports.is_empty()));
    s.push_str("    # Overrides: a target that listens on another port than the catalog's.\n");
    if let Some(r) = example {
        s.push_str("    # overrides:\n");
        let _ = writeln!(
            s,
            "    #   - {{ requirement: {}, target: HOST, ports: [PORT] }}   # {}",
            r.id,
            one_line(&r.service)
        );
    }
}
