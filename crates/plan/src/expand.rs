//! Requirements to flows: for each product of the deployment, every
//! requirement whose feature is on and whose condition holds becomes one flow
//! per protocol and pair of role entries (source entry, destination entry).
//! Also collects what the conflict checks need: listeners and address claims.

use crate::resolve::parse_addr;
use crate::resolve::{item_paths, key, Entry, Names, Origin};
use crate::settings::{folded, key_error, meant, settings, Settings};
use portplan_model::catalog::{Condition, ParameterKind, PortSpec, Product, Requirement, Scope};
use portplan_model::diag::{unknown, Diagnostic};
use portplan_model::load::Parsed;
use portplan_model::{Addr, Because, Deployment, Flow, Override, PortSet, Protocol, Side};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Planner switches the CLI exposes.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Leave out requirements the catalog marks optional, in every product.
    pub no_optional: bool,
}

/// A port some role listens on, on one entry (for conflict checks).
#[derive(Debug, Clone)]
pub struct Listener {
    pub product: String,
    pub role: String,
    pub requirement: String,
    pub entry: Entry,
    pub protocol: Protocol,
    /// Fixed listening ports (dynamic reply ranges are not listeners).
    pub ports: PortSet,
    /// The role runs the product's software (a component, a managed device),
    /// not an outside party such as a directory or a target it connects to.
    pub installed: bool,
    /// Roles of the same product whose sharing a host the catalog says
    /// matters (named with this one in a `colocated`/`separate` condition).
    pub paired: Vec<String>,
}

/// One role entry's claim on addresses (for overlap checks).
#[derive(Debug, Clone)]
pub struct Claim {
    pub product: String,
    pub role: String,
    pub entry: Entry,
}

pub struct Expanded {
    pub flows: Vec<Flow>,
    pub diagnostics: Vec<Diagnostic>,
    pub listeners: Vec<Listener>,
    pub claims: Vec<Claim>,
    /// The deployment's named hosts and networks, resolved (for the
    /// management check, which needs them too).
    pub names: Names,
}

/// What one product use adds: its flows, findings, listeners and claims.
#[derive(Default)]
struct Part {
    flows: Vec<Flow>,
    diagnostics: Vec<Diagnostic>,
    listeners: Vec<Listener>,
    claims: Vec<Claim>,
}

pub fn expand(
    cat: &portplan_model::Catalog,
    dep: &Parsed<Deployment>,
    opts: &PlanOptions,
) -> Expanded {
    let mut diagnostics = Vec::new();
    let names = Names::build(dep, &mut diagnostics);
    if dep.value.products.is_empty() {
        diagnostics.push(
            dep.error_at("/products", "the deployment lists no product")
                .hint("add `- product: ID` entries; `portplan catalog list` shows the ids"),
        );
    }
    // Product uses expand independently of one another (a deployment of
    // hundreds of sites lists thousands): on every core, each into its own
    // part, the parts joined in the deployment's order, so flows and
    // findings come out as they would one use after the other.
    let parts: Vec<Part> = dep
        .value
        .products
        .par_iter()
        .enumerate()
        .map(|(ui, u)| product_use(cat, dep, opts, &names, ui, u))
        .collect();
    let mut out = Expanded {
        flows: Vec::with_capacity(parts.iter().map(|p| p.flows.len()).sum()),
        diagnostics,
        listeners: Vec::with_capacity(parts.iter().map(|p| p.listeners.len()).sum()),
        claims: Vec::with_capacity(parts.iter().map(|p| p.claims.len()).sum()),
        names,
    };
    for p in parts {
        out.flows.extend(p.flows);
        out.diagnostics.extend(p.diagnostics);
        out.listeners.extend(p.listeners);
        out.claims.extend(p.claims);
    }
    out
}

/// One product use of the deployment (`/products/ui`).
fn product_use(
    cat: &portplan_model::Catalog,
    dep: &Parsed<Deployment>,
    opts: &PlanOptions,
    names: &Names,
    ui: usize,
    u: &portplan_model::ProductUse,
) -> Part {
    let mut out = Part::default();
    let base = format!("/products/{ui}");
    let p = match cat.get(&u.product) {
        Some(p) => p,
        None => {
            let (m, h) = unknown("product", &u.product, cat.ids());
            // Checked as the product it most likely means when every
            // role the entry places is one of that product's: then its
            // other findings are real, not the typo's echo.
            let fix = portplan_model::diag::did_you_mean(&u.product, cat.ids())
                .and_then(|id| cat.get(&id))
                .filter(|p| u.roles.keys().all(|r| p.role(r).is_some()));
            let fixed = fix.map(|p| p.product.clone());
            out.diagnostics.push(
                dep.error_at(&format!("{base}/product"), m)
                    .hint(folded(h, &fixed)),
            );
            match fix {
                Some(p) => p,
                None => return out,
            }
        }
    };
    let s = settings(dep, &base, p, u, &mut out.diagnostics);
    let roles = place_roles(dep, names, &base, p, u, &mut out);
    let overrides = check_overrides(dep, names, &base, p, &u.overrides, &mut out.diagnostics);
    let mut ctx = ProductCtx {
        dep,
        names,
        base: &base,
        p,
        s: &s,
        roles: &roles,
        overrides: &overrides,
        keep_optional: u.optional && !opts.no_optional,
        unplaced: BTreeMap::new(),
        missing: BTreeSet::new(),
        missing_params: BTreeMap::new(),
        planned: BTreeSet::new(),
        matched: BTreeSet::new(),
        used: BTreeSet::new(),
    };
    for r in &p.requirements {
        ctx.requirement(r, &mut out);
    }
    ctx.finish(&mut out.diagnostics);
    ctx.unused_parameters(u, &mut out.diagnostics);
    out
}

/// Resolves the deployment's role entries, and fixed endpoints for roles it
/// does not place.
fn place_roles(
    dep: &Parsed<Deployment>,
    names: &Names,
    base: &str,
    p: &Product,
    u: &portplan_model::ProductUse,
    out: &mut Part,
) -> BTreeMap<String, Vec<Entry>> {
    let mut roles: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
    for (written, v) in &u.roles {
        let rpath = format!("{base}/roles/{}", key(written));
        let role_ids = || p.roles.iter().map(|r| r.id.as_str());
        let rid = match p.role(written) {
            Some(r) => &r.id,
            None => {
                let (m, h) = unknown(&format!("role of {}", p.product), written, role_ids());
                // Checked as the role it most likely means, so the typo does
                // not also leave that role unplaced and its flows unchecked.
                let fix = meant(written, role_ids(), |k| u.roles.contains_key(k));
                out.diagnostics
                    .push(key_error(dep, &rpath, m, folded(h, &fix)));
                match fix.as_deref().and_then(|f| p.role(f)) {
                    Some(r) => &r.id,
                    None => continue,
                }
            }
        };
        let items = item_paths(&rpath, v);
        if items.is_empty() {
            out.diagnostics.push(
                dep.error_at(
                    &rpath,
                    format!("role `{rid}` of {} has no addresses", p.product),
                )
                .hint(format!(
                    "list where it runs (`{written}: [HOST or CIDR]`: a name from `hosts:`/`networks:`, an address, a CIDR or a DNS name), or remove the line"
                )),
            );
            // Written, so not "unplaced": the error above says what is wrong.
            roles.entry(rid.clone()).or_default();
            continue;
        }
        let label = format!("{}/{rid}", p.product);
        let mut entries = Vec::new();
        for (path, raw) in items {
            if let Some(e) = names.resolve(dep, raw, &label, &path, &mut out.diagnostics) {
                out.claims.push(Claim {
                    product: p.product.clone(),
                    role: rid.clone(),
                    entry: e.clone(),
                });
                entries.push(e);
            }
        }
        roles.insert(rid.clone(), entries);
    }
    for role in &p.roles {
        if roles.contains_key(&role.id) || role.endpoints.is_empty() {
            continue;
        }
        let mut entries = Vec::new();
        for ep in &role.endpoints {
            match ep.parse::<Addr>() {
                Ok(a) => entries.push(Entry {
                    label: ep.clone(),
                    raw: ep.clone(),
                    addrs: vec![a],
                    origin: Origin::Endpoint,
                    path: base.to_string(),
                }),
                Err(e) => out.diagnostics.push(
                    Diagnostic::error(
                        format!("catalog/{}.yaml", p.product),
                        format!("role `{}` endpoint: {e}", role.id),
                    )
                    .hint(format!(
                        "the catalog entry is wrong: correct the role's `endpoints`, or place `{}` in the deployment to use your own addresses",
                        role.id
                    )),
                ),
            }
        }
        roles.insert(role.id.clone(), entries);
    }
    roles
}

/// Overrides naming a requirement the product has, with at least one port.
fn check_overrides<'a>(
    dep: &Parsed<Deployment>,
    names: &Names,
    base: &str,
    p: &Product,
    ovs: &'a [Override],
    diags: &mut Vec<Diagnostic>,
) -> Vec<(usize, &'a Override)> {
    let mut good = Vec::new();
    for (i, o) in ovs.iter().enumerate() {
        let path = format!("{base}/overrides/{i}");
        if p.requirements.iter().all(|r| r.id != o.requirement) {
            let (m, h) = unknown(
                &format!("requirement of {}", p.product),
                &o.requirement,
                p.requirements.iter().map(|r| r.id.as_str()),
            );
            diags.push(dep.error_at(&format!("{path}/requirement"), m).hint(h));
            continue;
        }
        if o.ports.is_empty() {
            diags.push(
                dep.error_at(&format!("{path}/ports"), "an override needs at least one port")
                    .hint(format!(
                        "give the port `{}` listens on for `{}`: `ports: [PORT]`, or remove the override",
                        o.target, o.requirement
                    )),
            );
            continue;
        }
        // A target that is no name must be an address: a bad one is said
        // here, not folded into "not a destination".
        if names.named(o.target.trim()).is_none()
            && parse_addr(
                dep,
                &format!("{path}/target"),
                "override target",
                &o.target,
                diags,
            )
            .is_none()
        {
            continue;
        }
        good.push((i, o));
    }
    good
}

/// Everything one product use needs while its requirements expand.
struct ProductCtx<'a> {
    dep: &'a Parsed<Deployment>,
    names: &'a Names,
    base: &'a str,
    p: &'a Product,
    s: &'a Settings,
    roles: &'a BTreeMap<String, Vec<Entry>>,
    overrides: &'a [(usize, &'a Override)],
    keep_optional: bool,
    /// Unplaced role -> requirements it leaves out.
    unplaced: BTreeMap<String, Vec<String>>,
    /// Choices already reported missing.
    missing: BTreeSet<String>,
    /// Parameters with no value -> what needs them (reported once each,
    /// naming every requirement and target, so one run shows every fix).
    missing_params: BTreeMap<String, Missing>,
    /// Requirements that were expanded (their feature on, condition true,
    /// roles placed).
    planned: BTreeSet<String>,
    /// Override indexes that matched a destination.
    matched: BTreeSet<usize>,
    /// Parameters some planned requirement uses.
    used: BTreeSet<String>,
}

/// What needs a parameter that has no value.
#[derive(Default)]
struct Missing {
    /// Requirement ids, with their feature.
    reqs: Vec<(String, Option<String>)>,
    /// Destinations left without a port, by requirement: (requirement, target).
    targets: Vec<(String, String)>,
    /// Some requirement can take a port per target.
    per_target: bool,
    /// Where to point: the feature that was switched on, else the product.
    at: String,
}

/// The ports of one destination: the entry's remaining addresses with the
/// requirement's ports, and override targets with theirs.
struct Target {
    label: String,
    addrs: Vec<Addr>,
    ports: Option<PortSet>,
    /// The protocols, when an override gives them.
    protocols: Option<Vec<Protocol>>,
    /// The ports come from an override.
    overridden: bool,
}

impl ProductCtx<'_> {
    fn placed(&self, role: &str) -> Option<&Vec<Entry>> {
        self.roles.get(role).filter(|e| !e.is_empty())
    }

    fn shares(&self, a: &str, b: &str) -> bool {
        match (self.placed(a), self.placed(b)) {
            (Some(x), Some(y)) => x.iter().any(|ea| y.iter().any(|eb| ea.shares_host(eb))),
            _ => false,
        }
    }

    /// `choice`, `colocated` and `separate` as the catalog defines them.
    fn holds(&mut self, w: &Condition, diags: &mut Vec<Diagnostic>) -> bool {
        for (c, o) in &w.choice {
            match self.s.choices.get(c) {
                Some(v) => {
                    if v != o {
                        return false;
                    }
                }
                None => {
                    if self.missing.insert(format!("choice:{c}")) {
                        let opts: Vec<&str> = self
                            .p
                            .choice(c)
                            .map(|ch| ch.options.iter().map(|x| x.id.as_str()).collect())
                            .unwrap_or_default();
                        diags.push(
                            self.dep
                                .error_at(
                                    &format!("{}/product", self.base),
                                    format!(
                                        "{} needs the choice `{c}` made; it has no default",
                                        self.p.product
                                    ),
                                )
                                .hint(format!(
                                    "add `choices: {{{c}: ONE_OF}}` with one of: {}",
                                    opts.join(", ")
                                )),
                        );
                    }
                    return false;
                }
            }
        }
        let pairs = |roles: &[String]| -> Vec<(String, String)> {
            let mut v = Vec::new();
            for (i, a) in roles.iter().enumerate() {
                for b in &roles[i + 1..] {
                    v.push((a.clone(), b.clone()));
                }
            }
            v
        };
        let colocated = w.colocated.iter().all(|r| self.placed(r).is_some())
            && pairs(&w.colocated).iter().all(|(a, b)| self.shares(a, b));
        let separate = pairs(&w.separate).iter().all(|(a, b)| !self.shares(a, b));
        colocated && separate
    }

    /// The requirement's ports with the deployment's parameter values;
    /// Err names the parameters with no value.
    fn ports(&self, r: &Requirement) -> (PortSet, PortSet, Vec<String>) {
        let mut all = PortSet::new();
        let mut listening = PortSet::new();
        let mut missing = Vec::new();
        for spec in &r.ports {
            match spec {
                PortSpec::Fixed(range) => {
                    all.insert(*range);
                    listening.insert(*range);
                }
                PortSpec::Param(name) => match self.s.params.get(name) {
                    Some(v) => {
                        all.insert(*v);
                        let dynamic = self
                            .p
                            .parameter(name)
                            .is_some_and(|x| x.kind == ParameterKind::Range);
                        if !dynamic {
                            listening.insert(*v);
                        }
                    }
                    None => missing.push(name.clone()),
                },
            }
        }
        (all, listening, missing)
    }

    fn requirement(&mut self, r: &Requirement, out: &mut Part) {
        if let Some(f) = &r.feature {
            if !self.s.features.contains(f) {
                return;
            }
        }
        if !r.required && !self.keep_optional {
            return;
        }
        if let Some(w) = &r.when {
            if !self.holds(w, &mut out.diagnostics) {
                return;
            }
        }
        let mut from = Vec::new();
        let mut to = Vec::new();
        for (side, list) in [(&mut from, r.from_roles()), (&mut to, r.to_roles())] {
            for role in list {
                if self.placed(&role).is_some() {
                    side.push(role);
                } else {
                    self.unplaced.entry(role).or_default().push(r.id.clone());
                }
            }
        }
        if from.is_empty() || to.is_empty() {
            return;
        }
        self.planned.insert(r.id.clone());
        self.used.extend(r.params().map(str::to_string));
        let (ports, listening, missing) = self.ports(r);
        let own: Vec<&Override> = self
            .overrides
            .iter()
            .filter(|(_, o)| o.requirement == r.id)
            .map(|(_, o)| *o)
            .collect();
        if r.alternatives && own.is_empty() {
            out.diagnostics.push(
                self.dep
                    .warning_at(
                        &format!("{}/product", self.base),
                        format!(
                            "{}/{} ({}): ports {} are alternatives and all of them are opened",
                            self.p.product, r.id, r.service, ports
                        ),
                    )
                    .hint(format!(
                        "open only the one in use: `overrides: [{{requirement: {}, target: HOST, ports: [PORT]}}]`",
                        r.id
                    )),
            );
        }
        let because = std::sync::Arc::new(Because {
            product: self.p.product.clone(),
            requirement: r.id.clone(),
            service: r.service.clone(),
            feature: r.feature.clone(),
            source: self.p.cite(&r.source),
        });
        let mut portless = Vec::new();
        for to_role in &to {
            let roles = self.roles;
            for te in roles.get(to_role).into_iter().flatten() {
                let targets = self.targets(r, te, &ports, &missing);
                portless.extend(
                    targets
                        .iter()
                        .filter(|t| t.ports.is_none())
                        .map(|t| t.label.clone()),
                );
                self.listen(r, to_role, te, &listening, &targets, out);
                let flow = |src: &Entry, t: &Target, proto: Protocol, ports: PortSet| Flow {
                    src: Side {
                        labels: vec![src.label.clone()],
                        addrs: src.addrs.clone(),
                    },
                    dst: Side {
                        labels: vec![t.label.clone()],
                        addrs: t.addrs.clone(),
                    },
                    protocol: proto,
                    ports,
                    icmp_type: r.icmp_type.clone(),
                    scope: r.scope,
                    required: r.required,
                    interface: r.interface.clone(),
                    because: vec![because.clone()],
                    // Filled in after merging (see notes.rs): cloning every
                    // note into every planned flow is most of the copying.
                    notes: Vec::new(),
                };
                for t in &targets {
                    let Some(tp) = &t.ports else { continue };
                    for proto in t.protocols.clone().unwrap_or_else(|| r.protocols()) {
                        let pp = if proto.has_ports() {
                            tp.clone()
                        } else {
                            PortSet::new()
                        };
                        if r.scope == Scope::Loopback {
                            // On the host itself: the listener's host talks to itself.
                            let me = Entry {
                                addrs: t.addrs.clone(),
                                label: t.label.clone(),
                                ..te.clone()
                            };
                            out.flows.push(flow(&me, t, proto, pp));
                            continue;
                        }
                        for from_role in &from {
                            for fe in self.placed(from_role).into_iter().flatten() {
                                // A host does not reach itself over the network.
                                if fe.shares_host(te) && fe.is_single_host() && te.is_single_host()
                                {
                                    continue;
                                }
                                out.flows.push(flow(fe, t, proto, pp.clone()));
                            }
                        }
                    }
                }
            }
        }
        if !portless.is_empty() {
            self.note_missing(r, &missing, &portless);
        }
    }

    /// Splits a destination entry by the overrides that name it (or an
    /// address inside it): each override target gets its own ports.
    fn targets(
        &mut self,
        r: &Requirement,
        te: &Entry,
        ports: &PortSet,
        missing: &[String],
    ) -> Vec<Target> {
        let general = if missing.is_empty() {
            Some(ports.clone())
        } else {
            None
        };
        let mut rest = te.addrs.clone();
        let mut out = Vec::new();
        for (i, o) in self.overrides.iter().filter(|(_, o)| o.requirement == r.id) {
            let (label, taddrs) = self.override_target(&o.target);
            let oports = PortSet::from_ranges(o.ports.iter().copied());
            let whole = o.target == te.raw || o.target == te.label || taddrs == te.addrs;
            if whole {
                self.matched.insert(*i);
                rest.clear();
                out.push(Target {
                    label: te.label.clone(),
                    addrs: te.addrs.clone(),
                    ports: Some(oports),
                    protocols: o.protocol.as_ref().map(|p| p.to_vec()),
                    overridden: true,
                });
                continue;
            }
            let holes: Vec<ipnet::IpNet> = taddrs
                .iter()
                .filter_map(|a| match a {
                    Addr::Net(n) => Some(*n),
                    _ => None,
                })
                .collect();
            let inside = !holes.is_empty()
                && holes.len() == taddrs.len()
                && holes.iter().all(|h| {
                    rest.iter()
                        .any(|a| matches!(a, Addr::Net(n) if n.contains(h) && n != h))
                });
            if inside {
                self.matched.insert(*i);
                for h in &holes {
                    rest = rest
                        .into_iter()
                        .flat_map(|a| match a {
                            Addr::Net(n) => crate::cidr::subtract(n, *h)
                                .into_iter()
                                .map(Addr::Net)
                                .collect(),
                            other => vec![other],
                        })
                        .collect();
                }
                out.push(Target {
                    label,
                    addrs: taddrs,
                    ports: Some(oports),
                    protocols: o.protocol.as_ref().map(|p| p.to_vec()),
                    overridden: true,
                });
            }
        }
        if !rest.is_empty() {
            out.insert(
                0,
                Target {
                    label: te.label.clone(),
                    addrs: rest,
                    ports: general,
                    protocols: None,
                    overridden: false,
                },
            );
        }
        out
    }

    /// An override target's label and addresses (a name, or what it parses to).
    fn override_target(&self, target: &str) -> (String, Vec<Addr>) {
        match self.names.named(target) {
            Some(a) => (target.to_string(), a.clone()),
            None => (
                target.to_string(),
                target.parse::<Addr>().into_iter().collect(),
            ),
        }
    }

    fn listen(
        &self,
        r: &Requirement,
        role: &str,
        te: &Entry,
        listening: &PortSet,
        targets: &[Target],
        out: &mut Part,
    ) {
        // Only what a product installs on one machine can collide (see
        // conflicts.rs); nothing else needs recording.
        let installed = self.p.role(role).is_some_and(|r| {
            matches!(
                r.kind,
                portplan_model::RoleKind::Component | portplan_model::RoleKind::Device
            )
        });
        if !installed || !te.is_single_host() {
            return;
        }
        // The entry listens on its override's ports (and protocols) when one
        // names all of it.
        let whole = targets.iter().find(|t| t.overridden && t.addrs == te.addrs);
        let ports = whole
            .and_then(|t| t.ports.clone())
            .unwrap_or_else(|| listening.clone());
        if ports.is_empty() {
            return;
        }
        let protocols = whole
            .and_then(|t| t.protocols.clone())
            .unwrap_or_else(|| r.protocols());
        for proto in protocols.into_iter().filter(|p| p.has_ports()) {
            out.listeners.push(Listener {
                product: self.p.product.clone(),
                role: role.to_string(),
                requirement: r.id.clone(),
                entry: te.clone(),
                protocol: proto,
                ports: ports.clone(),
                installed,
                paired: paired(self.p, role),
            });
        }
    }

    fn note_missing(&mut self, r: &Requirement, missing: &[String], portless: &[String]) {
        for m in missing {
            let at = r
                .feature
                .as_ref()
                .and_then(|f| self.s.feature_paths.get(f).cloned())
                .unwrap_or_else(|| format!("{}/product", self.base));
            let e = self
                .missing_params
                .entry(m.clone())
                .or_insert_with(|| Missing {
                    at,
                    ..Missing::default()
                });
            e.reqs.push((r.id.clone(), r.feature.clone()));
            e.per_target |= r.per_target;
            for t in portless {
                let pair = (r.id.clone(), t.clone());
                if !e.targets.contains(&pair) {
                    e.targets.push(pair);
                }
            }
        }
    }

    /// One error per parameter with no value, naming every requirement and
    /// destination that needs it and the YAML that gives it.
    fn report_missing(&self, diags: &mut Vec<Diagnostic>) {
        for (m, need) in &self.missing_params {
            let name = self
                .p
                .parameter(m)
                .map(|x| x.name.clone())
                .unwrap_or_default();
            let mut features: Vec<&str> =
                need.reqs.iter().filter_map(|(_, f)| f.as_deref()).collect();
            features.dedup();
            let ids: Vec<String> = need.reqs.iter().map(|(id, _)| format!("`{id}`")).collect();
            let why = match features.as_slice() {
                [f] if need.reqs.iter().all(|(_, x)| x.is_some()) => {
                    format!("feature `{f}` needs")
                }
                _ if ids.len() == 1 => format!("requirement {} needs", ids[0]),
                _ => format!("requirements {} need", ids.join(", ")),
            };
            let by_target = if need.per_target {
                let entries: Vec<String> = need
                    .targets
                    .iter()
                    .map(|(r, t)| format!("{{requirement: {r}, target: {t}, ports: [PORT]}}"))
                    .collect();
                format!(
                    ", or one port per destination: `overrides: [{}]`",
                    entries.join(", ")
                )
            } else {
                String::new()
            };
            let targets: Vec<&str> = need.targets.iter().map(|(_, t)| t.as_str()).collect();
            let mut uniq = targets.clone();
            uniq.sort();
            uniq.dedup();
            diags.push(
                self.dep
                    .error_at(
                        &need.at,
                        format!(
                            "{} {why} parameter `{m}` ({name}), which has no default and no value: no port for {}",
                            self.p.product,
                            uniq.join(", ")
                        ),
                    )
                    .hint(format!(
                        "set it for all: `parameters: {{{m}: PORT}}`{by_target}; portplan never guesses a port"
                    )),
            );
        }
    }

    /// A value the deployment gives that nothing planned uses is most likely
    /// a feature left off or a role left unplaced: say so.
    fn unused_parameters(&self, u: &portplan_model::ProductUse, diags: &mut Vec<Diagnostic>) {
        for id in u.parameters.keys() {
            if self.p.parameter(id).is_none() || self.used.contains(id) {
                continue;
            }
            let needing: Vec<&Requirement> = self
                .p
                .requirements
                .iter()
                .filter(|r| r.params().any(|x| x == id))
                .collect();
            // Left out for a role not placed: that warning says it.
            if needing
                .iter()
                .any(|r| self.unplaced.values().any(|reqs| reqs.contains(&r.id)))
            {
                continue;
            }
            let users: Vec<String> = needing
                .iter()
                .map(|r| match &r.feature {
                    Some(f) => format!("{} (feature {f})", r.id),
                    None => r.id.clone(),
                })
                .collect();
            let mut fixes: Vec<String> = Vec::new();
            for r in &needing {
                let fix = match &r.feature {
                    Some(f) if !self.s.features.contains(f) => format!("enable `features: [{f}]`"),
                    _ => match r
                        .from_roles()
                        .into_iter()
                        .chain(r.to_roles())
                        .find(|x| self.placed(x).is_none())
                    {
                        Some(role) => {
                            format!("place role `{role}` (`roles: {{{role}: [HOST or CIDR]}}`)")
                        }
                        None => continue,
                    },
                };
                if !fixes.contains(&fix) {
                    fixes.push(fix);
                }
            }
            fixes.push(format!("remove `{id}` from `parameters:`"));
            diags.push(
                self.dep
                    .warning_at(
                        &format!("{}/parameters/{}", self.base, key(id)),
                        format!("parameter `{id}` is set but no planned flow uses it"),
                    )
                    .hint(format!(
                        "it is used by {}: {}",
                        users.join(", "),
                        fixes.join(", or ")
                    )),
            );
        }
    }

    fn finish(&self, diags: &mut Vec<Diagnostic>) {
        self.report_missing(diags);
        for (role, reqs) in &self.unplaced {
            // A role the file places, whose entries all failed, has its errors.
            if self.roles.contains_key(role) {
                continue;
            }
            let path = format!("{}/roles", self.base);
            let mut reqs = reqs.clone();
            reqs.dedup();
            diags.push(
                Diagnostic::warning(
                    &self.dep.file,
                    format!(
                        "role `{role}` of {} is not placed: its flows of {} are left out",
                        self.p.product,
                        reqs.join(", ")
                    ),
                )
                .at(self.dep.index().key(&path))
                .hint(self.unplaced_hint(role, &reqs)),
            );
        }
        for (i, o) in self.overrides {
            if self.matched.contains(i) {
                continue;
            }
            let Some(r) = self.p.requirements.iter().find(|r| r.id == o.requirement) else {
                continue;
            };
            let path = format!("{}/overrides/{i}/target", self.base);
            if !self.planned.contains(&r.id) {
                // Left out for an unplaced role: that role's warning says
                // so, and placing it makes the override apply.
                if self.unplaced.values().any(|reqs| reqs.contains(&r.id)) {
                    continue;
                }
                diags.push(
                    self.dep
                        .warning_at(
                            &path,
                            format!(
                                "override of `{}` changes nothing: {}",
                                r.id,
                                self.why_not_planned(r)
                            ),
                        )
                        .hint(format!("{}, or remove the override", self.how_to_plan(r))),
                );
                continue;
            }
            let to = r.to_roles().join(", ");
            diags.push(
                self.dep
                    .error_at(
                        &path,
                        format!(
                            "override target `{}` is not a destination of `{}` in this deployment",
                            o.target, o.requirement
                        ),
                    )
                    .hint(format!(
                        "name a host, address or CIDR placed in its destination role(s): {to}"
                    )),
            );
        }
    }

    /// How to make "role not placed" go away: place it, or switch off
    /// exactly the features (or optional requirements) whose flows need it;
    /// when part of the flows belongs to no feature, say that nothing but
    /// placing the role can.
    fn unplaced_hint(&self, role: &str, reqs: &[String]) -> String {
        let mut without: Vec<&str> = Vec::new();
        let mut enabled: Vec<&str> = Vec::new();
        let mut optional: Vec<&str> = Vec::new();
        let mut core: Vec<&str> = Vec::new();
        let mut choose: Vec<String> = Vec::new();
        for r in reqs
            .iter()
            .filter_map(|id| self.p.requirements.iter().find(|r| &r.id == id))
        {
            // A requirement that holds for one option of a choice goes away
            // with another option.
            let by_choice = r.when.as_ref().and_then(|w| w.choice.iter().next());
            if let (None, Some((c, o))) = (&r.feature, by_choice) {
                let others: Vec<&str> = self
                    .p
                    .choice(c)
                    .map(|ch| {
                        ch.options
                            .iter()
                            .map(|x| x.id.as_str())
                            .filter(|x| x != o)
                            .collect()
                    })
                    .unwrap_or_default();
                if !others.is_empty() {
                    let fix = format!(
                        "`choices: {{{c}: OPTION}}` with OPTION one of {}",
                        others.join(", ")
                    );
                    if !choose.contains(&fix) {
                        choose.push(fix);
                    }
                    continue;
                }
            }
            let list = match &r.feature {
                Some(f) if self.s.feature_paths.contains_key(f) => &mut enabled,
                Some(_) => &mut without,
                None if !r.required => &mut optional,
                None => &mut core,
            };
            let item = r.feature.as_deref().unwrap_or(r.id.as_str());
            if !list.contains(&item) {
                list.push(item);
            }
        }
        let place = format!("place it: `roles: {{{role}: [HOST or CIDR]}}`");
        if !core.is_empty() {
            // The message lists them all; a few name the kind here.
            let mut ids: Vec<String> = core.iter().take(3).map(|x| format!("`{x}`")).collect();
            if core.len() > 3 {
                ids.push(format!("{} more", core.len() - 3));
            }
            return format!(
                "{place}; no feature switches off {} (part of every {} deployment), so only placing the role silences this; if nothing here plays `{role}`, those flows are not needed and the warning only records it (`plan --strict` fails on it)",
                ids.join(", "),
                self.p.product
            );
        }
        let mut ways = vec![place];
        if !without.is_empty() {
            ways.push(format!(
                "switch off the feature{} that need{} it: `without: [{}]`",
                if without.len() == 1 { "" } else { "s" },
                if without.len() == 1 { "s" } else { "" },
                without.join(", ")
            ));
        }
        if !enabled.is_empty() {
            ways.push(format!(
                "remove {} from `features:`",
                enabled
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !choose.is_empty() {
            ways.push(format!("choose another option: {}", choose.join(" and ")));
        }
        if !optional.is_empty() {
            ways.push(format!(
                "leave out the optional requirement{} {} with `optional: false`",
                if optional.len() == 1 { "" } else { "s" },
                optional.join(", ")
            ));
        }
        match ways.len() {
            1 => ways.remove(0),
            _ => {
                let last = ways.pop().unwrap_or_default();
                format!("{}, or {last}", ways.join(", "))
            }
        }
    }

    /// Why a requirement produced no flow: its feature, the optional
    /// switch, its condition, or an unplaced role.
    fn why_not_planned(&self, r: &Requirement) -> String {
        if let Some(f) = r.feature.as_ref().filter(|f| !self.s.features.contains(*f)) {
            return format!("its feature `{f}` is off");
        }
        if !r.required && !self.keep_optional {
            return "optional requirements are left out".to_string();
        }
        let unplaced: Vec<String> = r
            .from_roles()
            .into_iter()
            .chain(r.to_roles())
            .filter(|x| self.placed(x).is_none())
            .map(|x| format!("`{x}`"))
            .collect();
        if !unplaced.is_empty() {
            return format!("role {} is not placed", unplaced.join(", "));
        }
        "its condition (`when:` in the catalog) does not hold in this deployment".to_string()
    }

    fn how_to_plan(&self, r: &Requirement) -> String {
        if let Some(f) = r.feature.as_ref().filter(|f| !self.s.features.contains(*f)) {
            return format!("enable it: `features: [{f}]`");
        }
        if !r.required && !self.keep_optional {
            return "plan optional requirements (`optional: true`, no `--no-optional`)".to_string();
        }
        match r
            .from_roles()
            .into_iter()
            .chain(r.to_roles())
            .find(|x| self.placed(x).is_none())
        {
            Some(role) => format!("place the role: `roles: {{{role}: [HOST or CIDR]}}`"),
            None => format!(
                "see `portplan catalog show {}` for when `{}` applies",
                self.p.product, r.id
            ),
        }
    }
}

/// Roles named together with `role` in a `colocated` or `separate` condition.
fn paired(p: &Product, role: &str) -> Vec<String> {
    let mut out: Vec<String> = p
        .requirements
        .iter()
        .filter_map(|r| r.when.as_ref())
        .flat_map(|w| [&w.colocated, &w.separate])
        .filter(|roles| roles.iter().any(|x| x == role))
        .flat_map(|roles| roles.iter().filter(|x| *x != role).cloned())
        .collect();
    out.sort();
    out.dedup();
    out
}
