//! `portplan fleet` end to end: the generated Ansible project run by a real
//! `ansible-playbook` against real sshd "hosts". Five network namespaces on
//! one bridge (itself in a sixth): the control node, three hosts running
//! sshd with a test key, and one host without sshd (unreachable). fl-3 drops
//! TCP 7102 with nftables. The merged report must show every path verified
//! except the two to fl-3:7102 (filtered), fl-4's flows not verified
//! because it is unreachable, and exit 1.
//!
//! Needs root, `ip`, `nft`, `sshd`, `ssh-keygen` and ansible-core (in
//! /opt/portplan-ci-venv, where `.ci/run` installs it, or on PATH):
//! skipped with a reason otherwise, except under CI, where a skip is a
//! failure.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_portplan");
const SECRET: &str = "fleet-bed-secret-Hq3Zr8Wp5Nc2Jk7Lt";
const CONTROL: &str = "10.214.0.10";
/// The hosts with sshd; fl-4 (10.214.0.14) has a namespace but no sshd.
const SSH_HOSTS: [(&str, &str); 3] = [
    ("fl-1", "10.214.0.11"),
    ("fl-2", "10.214.0.12"),
    ("fl-3", "10.214.0.13"),
];
/// The whole run (every Ansible step and probe) must end within this.
const RUN_LIMIT: Duration = Duration::from_secs(600);

fn fixture(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fleet")
        .join(p)
}

fn ansible_playbook() -> Option<PathBuf> {
    let venv = PathBuf::from("/opt/portplan-ci-venv/bin/ansible-playbook");
    if venv.exists() {
        return Some(venv);
    }
    Command::new("ansible-playbook")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| PathBuf::from("ansible-playbook"))
}

/// Whether the bed can be built; under CI it must be.
fn bed_possible() -> Option<PathBuf> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let tool = |c: &str, a: &str| Command::new(c).arg(a).output().is_ok();
    let playbook = ansible_playbook();
    let reason = if uid.as_deref() != Some("0") {
        Some("not root (network namespaces need root)")
    } else if !tool("ip", "-V") {
        Some("`ip` (iproute2) is not installed")
    } else if !tool("nft", "--version") {
        Some("`nft` (nftables) is not installed")
    } else if !Path::new("/usr/sbin/sshd").exists() {
        Some("sshd (openssh-server) is not installed")
    } else if !tool("ssh-keygen", "-?") {
        Some("ssh-keygen (openssh-client) is not installed")
    } else if playbook.is_none() {
        Some("ansible-playbook (ansible-core) is not installed; `.ci/run` puts it in /opt/portplan-ci-venv")
    } else {
        None
    };
    match reason {
        None => playbook,
        Some(r) if std::env::var_os("CI").is_some() => {
            panic!("fleet_netns: CI must run the fleet test, but {r}")
        }
        Some(r) => {
            eprintln!("skipping fleet_netns: {r}");
            None
        }
    }
}

fn must(cmd: &mut Command) -> Output {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The namespaces, the bridge, the sshd processes and the temporary folder;
/// all removed on drop, also when an assertion failed.
struct Bed {
    tag: String,
    namespaces: Vec<String>,
    /// sshd and port holders, killed on drop.
    sshd: Vec<Child>,
    tmp: tempfile::TempDir,
}

impl Bed {
    fn ns(&self, name: &str) -> String {
        format!("{}-{name}", self.tag)
    }

    /// `scenario` (one letter) keeps the beds of tests running at once apart.
    fn new(scenario: &str) -> Bed {
        let id = std::process::id() % 100_000;
        let tag = format!("ppfl{id}{scenario}");
        let mut bed = Bed {
            tag: tag.clone(),
            namespaces: Vec::new(),
            sshd: Vec::new(),
            tmp: tempfile::tempdir().unwrap(),
        };
        let sw = bed.ns("sw");
        must(Command::new("ip").args(["netns", "add", &sw]));
        bed.namespaces.push(sw.clone());
        must(Command::new("ip").args(["-n", &sw, "link", "add", "br0", "type", "bridge"]));
        must(Command::new("ip").args(["-n", &sw, "link", "set", "br0", "up"]));
        let mut members = vec![("ctl", CONTROL)];
        members.extend(SSH_HOSTS);
        members.push(("fl-4", "10.214.0.14"));
        for (i, (name, addr)) in members.iter().enumerate() {
            let ns = bed.ns(name);
            must(Command::new("ip").args(["netns", "add", &ns]));
            bed.namespaces.push(ns.clone());
            let (outer, inner) = (format!("{tag}s{i}"), format!("{tag}h{i}"));
            must(Command::new("ip").args([
                "link", "add", &outer, "type", "veth", "peer", "name", &inner,
            ]));
            must(Command::new("ip").args(["link", "set", &outer, "netns", &sw]));
            must(Command::new("ip").args(["link", "set", &inner, "netns", &ns]));
            must(Command::new("ip").args(["-n", &sw, "link", "set", &outer, "master", "br0"]));
            must(Command::new("ip").args(["-n", &sw, "link", "set", &outer, "up"]));
            must(Command::new("ip").args([
                "-n",
                &ns,
                "addr",
                "add",
                &format!("{addr}/24"),
                "dev",
                &inner,
            ]));
            must(Command::new("ip").args(["-n", &ns, "link", "set", &inner, "up"]));
            must(Command::new("ip").args(["-n", &ns, "link", "set", "lo", "up"]));
        }
        bed
    }

    fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    /// A key pair for the control node, a host key, and one sshd per host
    /// with its own configuration (nothing of the machine's sshd is used).
    fn start_sshd(&mut self) {
        for k in ["id", "hostkey"] {
            must(Command::new("ssh-keygen").args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                &self.path(k).display().to_string(),
            ]));
        }
        std::fs::copy(self.path("id.pub"), self.path("authorized_keys")).unwrap();
        // sshd's privilege separation needs this folder (the package makes
        // it at boot through systemd, which a test machine may not run).
        std::fs::create_dir_all("/run/sshd").unwrap();
        for (name, addr) in SSH_HOSTS {
            let cfg = self.path(&format!("sshd-{name}.conf"));
            std::fs::write(
                &cfg,
                format!(
                    "ListenAddress {addr}\nPort 22\nHostKey {hk}\nPidFile {pid}\nAuthorizedKeysFile {ak}\n\
                     PermitRootLogin prohibit-password\nPasswordAuthentication no\n\
                     KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n\
                     Subsystem sftp internal-sftp\n",
                    hk = self.path("hostkey").display(),
                    pid = self.path(&format!("sshd-{name}.pid")).display(),
                    ak = self.path("authorized_keys").display(),
                ),
            )
            .unwrap();
            let child = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &self.ns(name),
                    "/usr/sbin/sshd",
                    "-D",
                    "-e",
                    "-f",
                ])
                .arg(&cfg)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(self.path(&format!("sshd-{name}.log"))).unwrap())
                .spawn()
                .unwrap();
            self.sshd.push(child);
        }
        // Each sshd listens once the control node can open its port.
        for (name, addr) in SSH_HOSTS {
            let t0 = Instant::now();
            loop {
                let ok = Command::new("ip")
                    .args(["netns", "exec", &self.ns("ctl"), "bash", "-c"])
                    .arg(format!("exec 3<>/dev/tcp/{addr}/22"))
                    .stderr(Stdio::null())
                    .status()
                    .map(|s| s.success())
                    .unwrap_or(false);
                if ok {
                    break;
                }
                let log = std::fs::read_to_string(self.path(&format!("sshd-{name}.log")))
                    .unwrap_or_default();
                assert!(
                    t0.elapsed() < Duration::from_secs(15),
                    "sshd of {name} does not listen: {log}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// fl-3 drops TCP 7102: the path the report must show `filtered`.
    fn drop_on_fl3(&self) {
        let rules = "table inet ppfleet {\n chain input {\n  type filter hook input priority 0; policy accept;\n  tcp dport 7102 drop\n }\n}\n";
        let mut c = Command::new("ip")
            .args(["netns", "exec", &self.ns("fl-3"), "nft", "-f", "-"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(rules.as_bytes()).unwrap();
        assert!(c.wait().unwrap().success(), "nft rules did not load");
    }

    /// A process (not portplan) listening on `addr:port` in host `name`.
    fn hold_port(&mut self, name: &str, addr: &str, port: u16) {
        let code = format!(
            "import socket, time\ns = socket.socket()\ns.bind(('{addr}', {port}))\ns.listen(16)\nprint('ready', flush=True)\ntime.sleep(600)\n"
        );
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(name),
                "/usr/bin/python3",
                "-c",
                &code,
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready", "the port holder did not start");
        self.sshd.push(child);
    }

    /// The user's inventory: how the control node reaches each host.
    fn user_inventory(&self) -> PathBuf {
        let mut hosts = String::new();
        for (name, addr) in SSH_HOSTS.iter().chain([("fl-4", "10.214.0.14")].iter()) {
            hosts.push_str(&format!(
                "        {name}:\n          ansible_host: {addr}\n"
            ));
        }
        let text = format!(
            "all:\n  vars:\n    ansible_user: root\n    ansible_python_interpreter: /usr/bin/python3\n    \
             ansible_ssh_private_key_file: {key}\n    \
             ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5\n  \
             children:\n    lab:\n      hosts:\n{hosts}",
            key = self.path("id").display()
        );
        let p = self.path("user-inventory.yml");
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Bed {
    fn drop(&mut self) {
        for c in &mut self.sshd {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Anything the run left in the bed's namespaces (a responder whose
        // TTL has not ended, an sshd session): ended by its pid.
        for ns in &self.namespaces {
            if let Ok(o) = Command::new("ip").args(["netns", "pids", ns]).output() {
                for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).output();
                }
            }
        }
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Runs `cmd` to its end or kills it at the limit; (exit code, output).
fn run_bounded(mut cmd: Command, limit: Duration, log: &Path) -> Option<i32> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(Stdio::from(
            std::fs::OpenOptions::new().append(true).open(log).unwrap(),
        ))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code();
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "ansible-playbook ran longer than {limit:?}:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A copy of the portplan binary without its debug sections: the same
/// program, a sixth of the bytes for Ansible to copy to every host.
fn shipped_binary(bed: &Bed) -> PathBuf {
    let p = bed.path("portplan");
    std::fs::copy(BIN, &p).unwrap();
    let stripped = Command::new("strip")
        .arg(&p)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if stripped {
        p
    } else {
        PathBuf::from(BIN)
    }
}

/// Writes the project with `portplan fleet` and runs it from the control
/// namespace; the exit code of ansible-playbook, its output, the report.
fn run_fleet(bed: &Bed, playbook: &Path) -> (Option<i32>, String, Value, PathBuf) {
    let inventory = bed.user_inventory();
    let project = bed.path("project");
    let o = must(
        Command::new(BIN)
            .arg("--catalog")
            .arg(fixture("catalog"))
            .arg("fleet")
            .arg(fixture("fleet.yaml"))
            .arg("-o")
            .arg(&project)
            .arg("--inventory")
            .arg(&inventory)
            .arg("--binary")
            .arg(shipped_binary(bed))
            .args(["--ttl", "5m", "--probe-timeout", "1s"]),
    );
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(said.contains("ansible-playbook -i"), "{said}");

    let log = bed.path("ansible.log");
    let mut cmd = Command::new("ip");
    cmd.args(["netns", "exec", &bed.ns("ctl")])
        .arg(playbook)
        .arg("-i")
        .arg(project.join("inventory.yml"))
        .arg(project.join("verify.yml"))
        .env("PORTPLAN_SECRET", SECRET)
        .env("LC_ALL", "C.UTF-8")
        // One connection per task: no ControlPersist master outlives the run.
        .env("ANSIBLE_SSH_ARGS", "-o ControlMaster=no")
        .env("ANSIBLE_HOME", bed.path("ansible-home"))
        .env("ANSIBLE_NOCOLOR", "1");
    let t0 = Instant::now();
    let code = run_bounded(cmd, RUN_LIMIT, &log);
    let ansible_log = std::fs::read_to_string(&log).unwrap_or_default();
    // Shown with --nocapture: what a reader of the run would see.
    eprintln!("{ansible_log}\nansible-playbook took {:?}", t0.elapsed());
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("report.json"))
            .unwrap_or_else(|e| panic!("no report.json ({e}):\n{ansible_log}")),
    )
    .unwrap();

    // Every responder stopped: no portplan process is left in the bed.
    for (name, _) in SSH_HOSTS {
        let o = must(Command::new("ip").args(["netns", "pids", &bed.ns(name)]));
        for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            assert!(
                !exe.to_string_lossy().contains("portplan"),
                "a portplan process ({pid}, {}) is still running in {name}",
                exe.display()
            );
        }
    }
    // The secret is nowhere in what the run left: project, results, reports, log.
    for f in walk(&project).into_iter().chain([log.clone()]) {
        let text = std::fs::read(&f).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&text).contains(SECRET),
            "the secret is in {}",
            f.display()
        );
    }
    (code, ansible_log, report, project)
}

/// "src->dst:proto/port" -> state, for every path of the report.
fn states(report: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}->{}:{}/{}",
                    r["src"].as_str().unwrap(),
                    r["dst"].as_str().unwrap(),
                    r["protocol"].as_str().unwrap(),
                    r["port"]
                ),
                r["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The paths fleet.yaml plans between reachable hosts, each with the state
/// the bed should give it: `verified` unless named in `except`.
fn expected(except: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (src, dst) in [("fl-1", "fl-2"), ("fl-1", "fl-3"), ("fl-2", "fl-3")] {
        for p in ["tcp/7101", "tcp/7102", "udp/7103"] {
            let key = format!("{src}->{dst}:{p}");
            let state = except
                .iter()
                .find(|(k, _)| key.ends_with(k))
                .map(|(_, s)| *s)
                .unwrap_or("verified");
            out.push((key, state.to_string()));
        }
    }
    out.sort();
    out
}

fn problems(report: &Value) -> Vec<(String, String)> {
    report["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| {
            h["problems"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        h["host"].as_str().unwrap().to_string(),
                        p.as_str().unwrap().to_string(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_generated_playbook_proves_the_fleet_and_reports_the_dropped_port() {
    let Some(playbook) = bed_possible() else {
        return;
    };
    let mut bed = Bed::new("a");
    bed.start_sshd();
    bed.drop_on_fl3();
    let (code, ansible_log, report, project) = run_fleet(&bed, &playbook);
    // The last assertion of the playbook fails: a required path is filtered.
    assert_eq!(code, Some(2), "ansible-playbook exit:\n{ansible_log}");
    assert!(
        ansible_log.contains("not proven"),
        "the run should end saying why:\n{ansible_log}"
    );
    assert_eq!(
        states(&report),
        expected(&[("fl-3:tcp/7102", "filtered")]),
        "{ansible_log}"
    );
    assert_eq!(report["summary"]["required_failed"], 2);
    assert_eq!(report["proven"], false);

    // fl-4 has no sshd: its flows are not verified, because it is unreachable.
    let gaps = report["not_verified"].as_array().unwrap();
    assert_eq!(gaps.len(), 6, "{gaps:#?}");
    for g in gaps {
        assert_eq!(g["src"], "fl-4");
        let why = g["why"].as_str().unwrap();
        assert!(
            why.contains("unreachable") && why.contains("Connection refused"),
            "{why}"
        );
    }
    let p = problems(&report);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].0, "fl-4");

    // The same merge from the command line: exit 1, the HTML has the matrix.
    let o = Command::new(BIN)
        .arg("--catalog")
        .arg(fixture("catalog"))
        .arg("report")
        .arg(project.join("results"))
        .arg("--deployment")
        .arg(fixture("fleet.yaml"))
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let html = std::fs::read_to_string(project.join("report.html")).unwrap();
    assert!(html.contains("Sources × destinations") && html.contains("FAIL 1/3 (filtered 1)"));
    let junit = std::fs::read_to_string(project.join("report.xml")).unwrap();
    assert!(junit.contains("failures=\"2\""), "{junit}");
}

/// A process of fl-2 holds TCP 7101 before the run: its responder cannot
/// bind that port, says so, and the path shows what answers instead.
#[test]
fn a_port_held_by_another_process_is_reported_with_its_holder() {
    let Some(playbook) = bed_possible() else {
        return;
    };
    let mut bed = Bed::new("b");
    bed.start_sshd();
    bed.hold_port("fl-2", "10.214.0.12", 7101);
    let (code, ansible_log, report, _) = run_fleet(&bed, &playbook);
    assert_eq!(code, Some(2), "ansible-playbook exit:\n{ansible_log}");
    assert_eq!(
        states(&report),
        expected(&[("fl-2:tcp/7101", "impostor")]),
        "{ansible_log}"
    );
    let p = problems(&report);
    let fl2: Vec<&str> = p
        .iter()
        .filter(|(h, _)| h == "fl-2")
        .map(|(_, w)| w.as_str())
        .collect();
    assert_eq!(fl2.len(), 1, "{p:?}");
    assert!(
        fl2[0].contains("skipped tcp/7101") && fl2[0].contains("python3"),
        "the cause names the port and its holder: {}",
        fl2[0]
    );
    assert!(p
        .iter()
        .any(|(h, w)| h == "fl-4" && w.contains("unreachable")));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
