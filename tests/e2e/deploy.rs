//! The deployment files in `deploy/`, checked offline the way an operator
//! would before using them: the systemd unit with `systemd-analyze verify`,
//! the Kubernetes manifests against the Kubernetes schema
//! (kubernetes-validate), the Nomad job parsed as HCL (python-hcl2); and
//! every flag, variable and config field they use is one `lodge serve`
//! knows.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy() -> PathBuf {
    repo().join("deploy")
}

/// A program of the test venv (`tests/.venv`, made by scripts/test).
fn venv(program: &str) -> PathBuf {
    let path = repo().join("tests/.venv/bin").join(program);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/test (it installs tests/requirements.txt into tests/.venv)",
        path.display()
    );
    path
}

fn run(command: &mut Command) -> String {
    let output = command.output().expect("running a checker");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?} failed:\n{text}");
    text
}

#[test]
fn the_systemd_unit_verifies() {
    // The unit names /usr/local/bin/lodge; verify it with this build's.
    let dir = tempfile::tempdir().unwrap();
    let unit = std::fs::read_to_string(deploy().join("systemd/lodge.service")).unwrap();
    assert!(
        unit.contains("ExecStart=/usr/local/bin/lodge serve"),
        "{unit}"
    );
    let here = dir.path().join("lodge.service");
    std::fs::write(
        &here,
        unit.replace("/usr/local/bin/lodge", lodge_bin().to_str().unwrap()),
    )
    .unwrap();
    let said = run(Command::new("systemd-analyze").arg("verify").arg(&here));
    assert!(!said.contains("lodge.service:"), "{said}");
}

#[test]
fn the_kubernetes_manifests_validate() {
    let manifests: Vec<PathBuf> = std::fs::read_dir(deploy().join("k8s"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(!manifests.is_empty());
    let said = run(Command::new(venv("kubernetes-validate")).args(&manifests));
    for kind in ["configmap", "deployment", "service", "poddisruptionbudget"] {
        assert!(
            said.contains(&format!("passed for resource {kind}/lodge")),
            "{said}"
        );
    }
}

#[test]
fn the_nomad_job_parses() {
    let script = "import hcl2, json, sys; print(json.dumps(hcl2.load(open(sys.argv[1]))))";
    let job: serde_json::Value = serde_json::from_str(&run(Command::new(venv("python"))
        .args(["-c", script])
        .arg(deploy().join("nomad/lodge.nomad.hcl"))))
    .unwrap();
    let job = &job["job"][0]["\"lodge\""];
    assert_eq!(job["type"], "\"service\"");
    let group = &job["group"][0]["\"lodge\""];
    assert_eq!(group["count"], 3);
    let check = &group["service"][0]["check"][0];
    assert_eq!(check["path"], "\"/readyz\"");
    let task = &group["task"][0]["\"lodge\""];
    assert_eq!(task["driver"], "\"exec\"");
    assert_eq!(task["kill_signal"], "\"SIGTERM\"");
}

/// Every `--flag` after `serve` and every `LODGE_*` variable in `text`.
fn flags_and_variables(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        let flag = word.len() > 2
            && word.starts_with("--")
            && word[2..].starts_with(|c: char| c.is_ascii_lowercase());
        if flag || word.starts_with("LODGE_") {
            found.push(word.to_owned());
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn deployment_files_use_only_what_lodge_serve_knows() {
    let help = String::from_utf8(
        Command::new(lodge_bin())
            .args(["serve", "--help"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    // Help wraps lines anywhere: compare with whitespace made single spaces.
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ") + " ";
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in ["systemd", "k8s", "nomad"] {
        files.extend(
            std::fs::read_dir(deploy().join(dir))
                .unwrap()
                .map(|e| e.unwrap().path()),
        );
    }
    files.push(deploy().join("Containerfile"));
    for file in &files {
        // Comments show other tools' commands (systemctl, kubectl, nomad).
        let text: String = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|line| !line.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        for word in flags_and_variables(&text) {
            // Cargo's and Docker's own flags aren't lodge's.
            if [
                "--release",
                "--locked",
                "--bin",
                "--from",
                "--system",
                "--uid",
                "--home-dir",
                "--create-home",
                "--no-install-recommends",
                "--from-literal",
            ]
            .contains(&word.as_str())
            {
                continue;
            }
            let known = if word.starts_with("--") {
                help.contains(&format!("{word} "))
            } else {
                // `[env: NAME=]`, or `[env: NAME]` for hidden values.
                help.contains(&format!("env: {word}=")) || help.contains(&format!("env: {word}]"))
            };
            assert!(
                known,
                "{} uses {word}, which lodge serve doesn't know",
                file.display()
            );
        }
    }
}

/// The config file inside the Kubernetes manifests: its lines after
/// `lodge.toml: |`, dedented.
fn configmap_toml(manifest: &Path) -> String {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut lines = text
        .lines()
        .skip_while(|l| !l.trim_end().ends_with("lodge.toml: |"));
    lines.next().expect("the ConfigMap holds lodge.toml");
    lines
        .take_while(|l| l.is_empty() || l.starts_with("    "))
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_config_files_in_the_manifests_are_ones_lodge_serve_reads() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("lodge.toml");
    std::fs::write(&config, configmap_toml(&deploy().join("k8s/lodge.yaml"))).unwrap();
    // Its storage points at servers that don't exist here: keep the
    // embedded ones, so what is checked is that every field is known.
    let server = Server::start(
        &dir.path().join("data"),
        &["--config", config.to_str().unwrap(), "--blobs", "folder"],
    );
    assert!(app_names(&server.json(&["app", "ls"])).is_empty());
}
