//! The real `tycho` binary against the real server (in this process, on 127.0.0.1:0) and the
//! fake Kubernetes API server, or a real cluster when TYCHO_TEST_KUBECONFIG is set.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};
use tycho_test_server::*;

struct Harness {
    cluster: TestCluster,
    server: TestServer,
    dir: PathBuf,
}

impl Harness {
    async fn start(test: &str) -> Harness {
        let cluster = TestCluster::start(test).await;
        let server = TestServer::on(&cluster).await;
        let dir = std::env::temp_dir().join(format!(
            "tycho-cli-e2e-{test}-{}-{}",
            std::process::id(),
            server.base.rsplit(':').next().expect("the server's port")
        ));
        std::fs::create_dir_all(dir.join("home")).unwrap();
        Harness {
            cluster,
            server,
            dir,
        }
    }

    /// Writes `name` in the test's folder.
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `tycho ARGS` with TYCHO_URL and TYCHO_TOKEN set to this server and alice.
    async fn tycho(&self, args: &[&str]) -> Output {
        self.run(
            args,
            &[("TYCHO_URL", &self.server.base), ("TYCHO_TOKEN", ALICE)],
        )
        .await
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tycho"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("HOME", self.dir.join("home"))
            .env("NO_COLOR", "1");
        for var in [
            "TYCHO_URL",
            "TYCHO_TOKEN",
            "TYCHO_CONFIG",
            "XDG_CONFIG_HOME",
            "KUBERNETES_SERVICE_HOST",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = tokio::time::timeout(Duration::from_secs(300), cmd.output())
            .await
            .expect("tycho finished within 300 s")
            .expect("run tycho");
        eprintln!(
            "$ tycho {}\n[exit {:?}]\n{}{}",
            args.join(" "),
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        out
    }

    fn ready_timeout(&self) -> &'static str {
        if self.cluster.fake.is_some() {
            "30"
        } else {
            "240"
        }
    }

    /// `tycho ARGS` as bob.
    async fn tycho_as_bob(&self, args: &[&str]) -> Output {
        self.run(
            args,
            &[("TYCHO_URL", &self.server.base), ("TYCHO_TOKEN", BOB)],
        )
        .await
    }

    /// Polls `tycho status --terse` until it prints nothing.
    async fn wait_all_gone(&self) {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let out = self.tycho(&["status", "--terse"]).await;
            assert!(out.status.success());
            if stdout(&out).trim().is_empty() {
                return;
            }
            assert!(Instant::now() < deadline, "systems left: {}", stdout(&out));
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    async fn finish(self) {
        drop(self.server);
        let _ = std::fs::remove_dir_all(&self.dir);
        self.cluster.cleanup().await;
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_status_down() {
    let h = Harness::start("cli-up-status-down").await;
    if let Some(fake) = &h.cluster.fake {
        // Long enough that --wait sees the system starting.
        fake.set_ready_delay(Duration::from_millis(1500));
    }
    // No --name: the folder's name, as compose does.
    let file = h.file("webapp/docker-compose.yaml", &compose(IMAGE));
    let out = h
        .tycho(&[
            "up",
            "-f",
            path(&file),
            "--wait",
            "--timeout",
            h.ready_timeout(),
        ])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["SYSTEM", "GUID", "PORT"]);
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[0], "webapp");
    let guid = row[1].to_string();
    assert_eq!(guid.len(), 32);
    assert!(guid.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(row[2], "8080");
    // The URL to open: Tycho's proxy, at the address the CLI reached the server by.
    let open = format!("{}/connect/{guid}/", h.server.base);
    assert_eq!(lines[2], format!("open: {open}"), "{text}");
    let err = stderr(&out);
    if h.cluster.fake.is_some() {
        assert!(err.contains("waiting: webapp Starting 0/1 ready"), "{err}");
    }
    assert!(
        err.contains(&format!("ready: webapp {guid} 1/1 at {open}")),
        "{err}"
    );

    // The table.
    let out = h.tycho(&["status"]).await;
    assert!(out.status.success());
    let text = stdout(&out);
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["SYSTEM", "GUID", "STATUS", "READY", "URL/PORT", "AGE"]
    );
    let row = text.lines().find(|l| l.contains(&guid)).expect("our row");
    assert!(row.starts_with("webapp "), "{row}");
    assert!(row.contains(" Running "), "{row}");
    assert!(row.contains(" 1/1 "), "{row}");
    assert!(row.contains(&format!(" {open} ")), "{row}");

    // Terse, JSON, YAML.
    let out = h.tycho(&["status", "--terse"]).await;
    assert_eq!(stdout(&out), format!("{guid}\n"));
    let out = h.tycho(&["status", "-o", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json[0]["guid"], guid.as_str());
    assert_eq!(json[0]["phase"], "Running");
    assert_eq!(json[0]["username"], "alice");
    assert_eq!(json[0]["connect_url"], open.as_str());
    let out = h.tycho(&["status", &guid, "-o", "yaml"]).await;
    assert!(out.status.success());
    assert!(
        stdout(&out).contains(&format!("guid: {guid}")),
        "{}",
        stdout(&out)
    );

    // What Kubernetes reported, under the status table (on a real cluster the events may
    // trail the status, so ask again for a while).
    let mut text = String::new();
    for _ in 0..100 {
        let out = h.tycho(&["status", &guid, "--events"]).await;
        assert!(out.status.success(), "{}", stderr(&out));
        text = stdout(&out);
        if text.contains("ScalingReplicaSet") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert!(
        text.contains(&format!("Events for webapp ({guid}):")),
        "{text}"
    );
    let header = text
        .lines()
        .find(|l| l.starts_with("TIME"))
        .expect("the events table");
    let header: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(header, ["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
    let scaling = text
        .lines()
        .find(|l| l.contains("ScalingReplicaSet"))
        .unwrap_or_else(|| panic!("no ScalingReplicaSet event: {text}"));
    assert!(scaling.contains(" Normal "), "{scaling}");
    assert!(scaling.contains(" Deployment/webapp-"), "{scaling}");
    let out = h.tycho(&["status", "--events"]).await;
    assert!(!out.status.success(), "--events needs a GUID");

    // down, then nothing is left.
    let out = h.tycho(&["down", &guid]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with(&guid), "{}", stdout(&out));
    h.wait_all_gone().await;
    let out = h.tycho(&["status"]).await;
    assert!(out.status.success());
    assert_eq!(stdout(&out), "None running\n");
    let out = h.tycho(&["status", &guid]).await;
    assert!(!out.status.success());
    assert!(stderr(&out).contains(&format!("no system {guid}")));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_fails_fast_on_an_image_pull_failure() {
    let h = Harness::start("cli-wait-fails-fast").await;
    make_bad_image_fail(&h.cluster);
    let file = h.file("docker-compose.yaml", &compose(BAD_IMAGE));
    let started = Instant::now();
    // The timeout is far away: the command must end because of the failure, not the clock.
    let out = h
        .tycho(&[
            "up",
            "-f",
            path(&file),
            "--name",
            "broken",
            "--wait",
            "--timeout",
            "290",
        ])
        .await;
    assert!(!out.status.success());
    assert!(started.elapsed() < Duration::from_secs(200), "not fast");
    let err = stderr(&out);
    assert!(err.contains("error: system "), "{err}");
    assert!(err.contains("failed: Failed ("), "{err}");
    assert!(
        err.contains("ImagePullBackOff") || err.contains("ErrImagePull"),
        "{err}"
    );
    // The rows were printed before waiting, so a script can still clean up.
    assert!(stdout(&out).contains("broken"), "{}", stdout(&out));

    let out = h.tycho(&["status"]).await;
    assert!(
        stdout(&out).contains("Failed (ImagePullBackOff)")
            || stdout(&out).contains("Failed (ErrImagePull)")
    );
    let out = h.tycho(&["down", "--all"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    h.wait_all_gone().await;
    let out = h.tycho(&["down", "--all"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "nothing to delete: none running\n");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_exit_non_zero_with_the_reason() {
    let h = Harness::start("cli-errors").await;
    let good = h.file("docker-compose.yaml", &compose(IMAGE));

    // Unreachable server.
    let out = h
        .run(
            &["status", "-s", "http://127.0.0.1:1"],
            &[("TYCHO_TOKEN", ALICE)],
        )
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot reach the Tycho server at http://127.0.0.1:1"),
        "{}",
        stderr(&out)
    );

    // Bad token, and none at all.
    let out = h
        .run(
            &["up", "-f", path(&good)],
            &[
                ("TYCHO_URL", &h.server.base),
                ("TYCHO_TOKEN", "wrong-token-0000"),
            ],
        )
        .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did not accept the token (401"),
        "{}",
        stderr(&out)
    );
    let out = h.run(&["status", "--server", &h.server.base], &[]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("(401"), "{}", stderr(&out));

    // 422: the server's diagnostics, rendered against the file like `tycho validate`.
    let bad = h.file(
        "bad/docker-compose.yaml",
        "services:\n  web:\n    image: nginx\n    privileged: true\n",
    );
    let out = h.tycho(&["up", "-f", path(&bad), "--name", "bad"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error[TY0402]"), "{err}");
    assert!(err.contains(&format!("{}:4:17", path(&bad))), "{err}");
    assert!(err.contains("privileged: true"), "{err}");
    assert!(
        err.contains("the server refused the compose file (422"),
        "{err}"
    );

    // Input errors exit 2 without asking the server.
    let out = h.tycho(&["up", "-f", "missing.yaml"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read missing.yaml"));
    let out = h
        .tycho(&["up", "-f", path(&good), "--env", "NOEQUALS"])
        .await;
    assert_eq!(out.status.code(), Some(2));

    // Unknown systems: neither status nor down pretends they were there.
    let unknown = "0123456789abcdef0123456789abcdef";
    let out = h.tycho(&["status", unknown, "--terse"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains(&format!("error: no system {unknown}")));
    h.finish().await;
}

/// The server answers 204 for a GUID with nothing of the caller's (it reveals nothing about
/// other users' GUIDs); the CLI must not call that "deleted".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_says_when_there_is_nothing_to_delete() {
    let h = Harness::start("cli-down-nothing").await;
    let never = "0123456789abcdef0123456789abcdef";
    let out = h.tycho(&["down", never]).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "a GUID that names nothing fails"
    );
    assert_eq!(stdout(&out), "", "nothing was deleted");
    assert!(
        stderr(&out).contains(&format!("nothing to delete: no system {never} of yours")),
        "{}",
        stderr(&out)
    );
    // --ignore-missing: the same note, and success.
    let out = h.tycho(&["down", "--ignore-missing", never]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("nothing to delete: no system {never} of yours\n")
    );
    // Not a GUID at all.
    let out = h.tycho(&["down", "NOT-A-GUID"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nothing to delete: \"NOT-A-GUID\" is not a GUID"),
        "{}",
        stderr(&out)
    );

    // `tycho down $(tycho status --terse)` with nothing running: no GUIDs, a no-op that says so.
    let out = h.tycho(&["status", "--terse"]).await;
    assert!(out.status.success());
    let running = stdout(&out);
    assert_eq!(running, "");
    let mut args = vec!["down"];
    args.extend(running.split_whitespace());
    let out = h.tycho(&args).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("nothing to delete"),
        "{}",
        stdout(&out)
    );

    // Someone else's system is nothing of alice's: not "deleted", and left running.
    let file = h.file("bob/docker-compose.yaml", &compose(IMAGE));
    let out = h
        .tycho_as_bob(&["up", "-f", path(&file), "--name", "bobs", "--terse"])
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let bobs = stdout(&out).trim().to_string();
    let out = h.tycho(&["down", &bobs]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("nothing to delete: no system {bobs} of yours")),
        "{}",
        stderr(&out)
    );
    let out = h.tycho_as_bob(&["status", &bobs, "--terse"]).await;
    assert!(
        out.status.success(),
        "bob's system is still there: {}",
        stderr(&out)
    );
    assert_eq!(stdout(&out), format!("{bobs}\n"));

    // One's own: deleted (or terminating) and exit 0; a second time, nothing to delete.
    let out = h.tycho_as_bob(&["down", &bobs]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said == format!("{bobs} deleted\n") || said == format!("{bobs} terminating\n"),
        "{said}"
    );
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let out = h.tycho_as_bob(&["down", &bobs]).await;
        if out.status.code() == Some(1) {
            assert!(
                stderr(&out).contains("nothing to delete"),
                "{}",
                stderr(&out)
            );
            break;
        }
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), format!("{bobs} terminating\n"));
        assert!(Instant::now() < deadline, "bob's system never went away");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_and_token_from_the_config_file_and_env_files() {
    let h = Harness::start("cli-config").await;
    h.file(
        "home/.config/tycho/config.toml",
        &format!("server = \"{}\"\ntoken = \"{ALICE}\"\n", h.server.base),
    );
    let out = h.run(&["status"], &[]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "None running\n");

    // `.env` beside the file is read; --env wins over it.
    let file = h.file(
        "envs/docker-compose.yaml",
        "services:\n  web:\n    image: $IMAGE\n    ports:\n      - \"${PORT}:8080\"\n",
    );
    h.file("envs/.env", &format!("IMAGE={IMAGE}\nPORT=9000\n"));
    let out = h
        .run(
            &["up", "-f", path(&file), "--env", "PORT=8080", "--terse"],
            &[],
        )
        .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let guid = stdout(&out).trim().to_string();
    assert_eq!(guid.len(), 32);
    let out = h.run(&["status", &guid, "-o", "json"], &[]).await;
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json[0]["ports"][0]["port"], 8080);
    assert_eq!(json[0]["name"], "envs");
    let out = h.run(&["down", &guid], &[]).await;
    assert!(out.status.success());
    h.wait_all_gone().await;
    h.finish().await;
}

#[test]
fn help_and_completions() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tycho"))
            .args(args)
            .output()
            .unwrap()
    };
    for cmd in ["up", "status", "down", "volumes"] {
        let out = run(&[cmd, "--help"]);
        assert!(out.status.success());
        let text = stdout(&out);
        assert!(text.contains("Examples:"), "{cmd}: {text}");
        assert!(text.contains("--server"), "{cmd}: {text}");
        assert!(text.contains("--token"), "{cmd}: {text}");
    }
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        assert!(stdout(&out).contains("status"), "{shell}");
    }
    // `down` with no GUIDs (`tycho down $(tycho status --terse)` with nothing running) is a
    // no-op that says so, without asking a server; with --all it is a usage error.
    let out = run(&["down"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("nothing to delete"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        run(&["down", "--all", "0123456789abcdef0123456789abcdef"])
            .status
            .code(),
        Some(2)
    );
    let help = stdout(&run(&["down", "--help"]));
    assert!(help.contains("Exit status:"), "{help}");
    assert!(help.contains("--ignore-missing"), "{help}");
    assert!(help.contains("-v, --volumes"), "{help}");
    // `rm` takes names; the list's flags do not mix with it.
    assert_eq!(run(&["volumes", "rm"]).status.code(), Some(2));
    assert_eq!(
        run(&["volumes", "--user", "x", "rm", "a"]).status.code(),
        Some(2)
    );
}

/// `tycho up -f FILE`: the GUID it printed.
async fn up_guid(h: &Harness, file: &Path) -> String {
    let out = h.tycho(&["up", "-f", path(file)]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let row = text.lines().nth(1).unwrap_or_else(|| panic!("{text}"));
    row.split_whitespace().nth(1).expect("a GUID").to_string()
}

#[tokio::test]
async fn down_keeps_volumes_which_volumes_lists_and_rm_or_down_v_removes() {
    let h = Harness::start("cli-volumes").await;
    let text = format!(
        "services:\n  web:\n    image: {IMAGE}\n    volumes: [\"data:/data\"]\nvolumes:\n  data: {{}}\n"
    );
    let file = h.file("keeper/docker-compose.yaml", &text);
    let guid = up_guid(&h, &file).await;
    let claim = format!("data-{guid}");
    let out = h.tycho(&["down", &guid]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stdout(&out);
    assert!(
        said.contains(&format!("kept volumes {claim} (1Gi)")),
        "{said}"
    );
    assert!(said.contains("tycho volumes rm NAME"), "{said}");
    h.wait_all_gone().await;

    let out = h.tycho(&["volumes"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME", "KIND", "VOLUME", "SYSTEM", "SIZE", "STATUS", "AGE", "EXPIRES"
        ]
    );
    let row: Vec<&str> = table
        .lines()
        .find(|l| l.starts_with(&claim))
        .unwrap_or_else(|| panic!("{table}"))
        .split_whitespace()
        .collect();
    assert_eq!(&row[1..5], ["system", "data", "keeper", "1Gi"], "{table}");
    assert!(row[5].starts_with("kept"), "{table}");
    assert_eq!(row[row.len() - 1], "never");
    let out = h.tycho(&["volumes", "-o", "json"]).await;
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(json[0]["name"], claim.as_str());
    // Bob cannot remove it; alice can.
    let out = h.tycho_as_bob(&["volumes", "rm", &claim]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("no volume {claim} of yours")),
        "{}",
        stderr(&out)
    );
    let out = h.tycho(&["volumes", "rm", &claim]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{claim} deleted\n"));

    // down -v takes them with the system.
    let guid = up_guid(&h, &file).await;
    let out = h.tycho(&["down", "-v", &guid]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!("deleted volumes data-{guid} (1Gi)")),
        "{}",
        stdout(&out)
    );
    h.wait_all_gone().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = h.tycho(&["volumes"]).await;
        if stdout(&out) == "no volumes\n" {
            break;
        }
        assert!(Instant::now() < deadline, "{}", stdout(&out));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    h.finish().await;
}
