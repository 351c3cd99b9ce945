//! Files that travel with the compose file: relative bind mounts (file, folder, folder not
//! sent), configs, secrets and env files, and `referenced_files` naming exactly what the
//! compiler reads.

mod common;

use common::{files, options};
use tycho_compiler::{
    CompileOptions, Files, KubeObject, Plan, ReferenceKind, codes, compile_with_files,
    referenced_files,
};

fn plan(text: &str, files: &Files) -> Plan {
    let compiled = compile_with_files(text, files, &options());
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    compiled.plan.expect("compiles")
}

fn json(plan: &Plan) -> serde_json::Value {
    plan.to_json()
}

fn deployment(plan: &Plan) -> serde_json::Value {
    serde_json::to_value(&plan.deployment).unwrap()
}

#[test]
fn a_bind_mounted_file_is_a_config_map_key_mounted_read_only_at_its_path() {
    let text = "services:\n  web:\n    image: nginx\n    volumes:\n      - ./conf/default.conf:/etc/nginx/conf.d/default.conf\n";
    let plan = plan(text, &files(&[("conf/default.conf", "server {}\n")]));
    let config_map = plan.config_map.as_ref().expect("a ConfigMap");
    assert_eq!(
        config_map.metadata.name.as_deref(),
        Some("system-abc-files")
    );
    let data = config_map.data.as_ref().unwrap();
    assert_eq!(data["conf_default.conf"], "server {}\n");
    let pod = deployment(&plan)["spec"]["template"]["spec"].clone();
    let mount = &pod["containers"][0]["volumeMounts"][0];
    assert_eq!(mount["mountPath"], "/etc/nginx/conf.d/default.conf");
    assert_eq!(mount["subPath"], "default.conf");
    assert_eq!(mount["readOnly"], true);
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mount["name"])
        .expect("the mount's volume");
    assert_eq!(volume["configMap"]["name"], "system-abc-files");
    assert_eq!(
        volume["configMap"]["items"],
        serde_json::json!([{"key": "conf_default.conf", "path": "default.conf"}])
    );
    // The ConfigMap is created before the Deployment that mounts it.
    let kinds: Vec<&str> = plan.objects().iter().map(KubeObject::kind).collect();
    let at = |kind| kinds.iter().position(|k| *k == kind).unwrap();
    assert!(at("ConfigMap") < at("Deployment"), "{kinds:?}");
}

#[test]
fn a_bind_mounted_folder_mounts_every_file_below_it() {
    let text =
        "services:\n  web:\n    image: nginx\n    volumes: [\"./site:/usr/share/nginx/html:ro\"]\n";
    let sent = files(&[
        ("site/index.html", "<h1>hi</h1>"),
        ("site/css/main.css", "h1 {}"),
        ("other.txt", "not mounted"),
    ]);
    let plan = plan(text, &sent);
    let data = plan.config_map.as_ref().unwrap().data.clone().unwrap();
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        ["site_css_main.css", "site_index.html"]
    );
    let pod = deployment(&plan)["spec"]["template"]["spec"].clone();
    let mount = &pod["containers"][0]["volumeMounts"][0];
    assert_eq!(mount["mountPath"], "/usr/share/nginx/html");
    assert!(mount.get("subPath").is_none());
    let items = &pod["volumes"][0]["configMap"]["items"];
    assert_eq!(
        items,
        &serde_json::json!([
            {"key": "site_css_main.css", "path": "css/main.css"},
            {"key": "site_index.html", "path": "index.html"},
        ])
    );
}

#[test]
fn a_folder_not_sent_becomes_a_claim_with_a_warning() {
    let text = "services:\n  db:\n    image: postgres\n    volumes: [\"./data:/var/lib/postgresql/data\"]\n  backup:\n    image: busybox\n    volumes: [\"./data:/backup:ro\"]\n";
    let compiled = compile_with_files(text, &Files::new(), &options());
    let warnings: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.code == codes::FOLDER_BECOMES_VOLUME)
        .collect();
    assert_eq!(warnings.len(), 2, "{:#?}", compiled.diagnostics);
    assert!(warnings[0].message.contains("`./data` was not sent"));
    let plan = compiled.plan.expect("a warning does not block");
    // One claim for the one folder, mounted by both services.
    assert_eq!(plan.claims.len(), 1);
    let claim = plan.claims[0].metadata.name.clone().unwrap();
    assert_eq!(claim, "folder-data-abc");
    let pod = deployment(&plan)["spec"]["template"]["spec"].clone();
    assert_eq!(pod["volumes"].as_array().unwrap().len(), 1);
    assert_eq!(
        pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
        claim
    );
    assert!(plan.config_map.is_none());
}

#[test]
fn configs_from_a_file_inline_content_and_the_env_mount_at_their_targets() {
    let text = "services:\n  web:\n    image: nginx\n    configs:\n      - site\n      - source: banner\n        target: /etc/motd\n        mode: 0440\n      - source: flags\n        target: flags.txt\nconfigs:\n  site:\n    file: ./site.conf\n  banner:\n    content: \"hello ${WHO}\"\n  flags:\n    environment: FLAGS\n";
    let mut options = options();
    options.env.insert("WHO".into(), "world".into());
    options.env.insert("FLAGS".into(), "a,b".into());
    let compiled = compile_with_files(text, &files(&[("site.conf", "listen 80;")]), &options);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let plan = compiled.plan.unwrap();
    let data = plan.config_map.as_ref().unwrap().data.clone().unwrap();
    assert_eq!(data["site.conf"], "listen 80;");
    assert_eq!(data["banner"], "hello world");
    assert_eq!(data["flags"], "a,b");
    let pod = deployment(&plan)["spec"]["template"]["spec"].clone();
    let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
    let paths: Vec<&str> = mounts
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/site", "/etc/motd", "/flags.txt"]);
    let banner = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == mounts[1]["name"])
        .unwrap();
    assert_eq!(banner["configMap"]["items"][0]["mode"], 0o440);
}

#[test]
fn secrets_are_a_secret_at_run_secrets_and_never_shown() {
    let text = "services:\n  db:\n    image: postgres\n    environment:\n      POSTGRES_PASSWORD_FILE: /run/secrets/db_password\n    secrets: [db_password]\nsecrets:\n  db_password:\n    file: ./secrets/db_password.txt\n";
    let password = "s3cret-Value-42";
    let plan = plan(text, &files(&[("secrets/db_password.txt", password)]));
    let secret = plan.secret.as_ref().expect("a Secret");
    assert_eq!(secret.metadata.name.as_deref(), Some("system-abc-secrets"));
    assert_eq!(
        secret.data.as_ref().unwrap()["secrets_db_password.txt"].0,
        password.as_bytes()
    );
    let pod = deployment(&plan)["spec"]["template"]["spec"].clone();
    let mount = &pod["containers"][0]["volumeMounts"][0];
    assert_eq!(mount["mountPath"], "/run/secrets/db_password");
    assert_eq!(mount["subPath"], "db_password");
    assert_eq!(
        pod["volumes"][0]["secret"]["secretName"],
        "system-abc-secrets"
    );
    // Every text of the plan shows the size, not the value (nor its base64).
    let encoded = "czNjcmV0LVZhbHVlLTQy";
    for shown in [
        plan.to_yaml(),
        json(&plan).to_string(),
        tycho_compiler::Document::join(&plan.documents()),
    ] {
        assert!(
            !shown.contains(password) && !shown.contains(encoded),
            "{shown}"
        );
        assert!(shown.contains("hidden: 15 bytes"), "{shown}");
    }
}

#[test]
fn env_files_merge_in_order_and_environment_wins() {
    let text = "services:\n  web:\n    image: a\n    env_file:\n      - ./base.env\n      - path: ./local.env\n        required: false\n      - path: raw.env\n        format: raw\n    environment:\n      MODE: production\n";
    let sent = files(&[
        (
            "base.env",
            "# defaults\nMODE=dev\nGREETING=\"hello\\nthere\" # comment\nHOST=${HOSTNAME:-localhost}\n",
        ),
        ("raw.env", "LITERAL=\"${not}\"\n"),
    ]);
    let plan = plan(text, &sent);
    let env = deployment(&plan)["spec"]["template"]["spec"]["containers"][0]["env"].clone();
    let pairs: Vec<(String, String)> = env
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .filter(|(name, _)| name != "TYCHO_BASE_PATH")
        .collect();
    assert_eq!(
        pairs,
        [
            ("GREETING".to_string(), "hello\nthere".to_string()),
            ("HOST".to_string(), "localhost".to_string()),
            ("LITERAL".to_string(), "\"${not}\"".to_string()),
            ("MODE".to_string(), "production".to_string()),
        ]
    );
}

#[test]
fn refusals_name_the_file_and_point_at_it() {
    let cases: &[(&str, &str, usize, usize, &str)] = &[
        (
            "services:\n  web:\n    image: a\n    env_file: web.env\n",
            codes::MISSING_FILE,
            4,
            15,
            "env_file `web.env` was not sent",
        ),
        (
            "services:\n  web:\n    image: a\n    volumes: [\"../secret:/s\"]\n",
            codes::OUTSIDE_PROJECT,
            4,
            15,
            "leaves the compose file's folder",
        ),
        (
            "services:\n  web:\n    image: a\n    secrets: [key]\nsecrets:\n  key:\n    file: ./key.pem\n",
            codes::MISSING_FILE,
            6,
            3,
            "secret `key` reads `key.pem`",
        ),
        (
            "services:\n  web:\n    image: a\n    secrets: [key]\nsecrets:\n  key:\n    environment: KEY\n",
            codes::UNSET_VARIABLE,
            6,
            3,
            "`KEY`, which is not set",
        ),
        (
            "services:\n  web:\n    image: a\n    secrets: [key]\nsecrets:\n  key:\n    external: true\n",
            codes::EXTERNAL_REFUSED,
            7,
            15,
            "not objects of other systems",
        ),
        (
            "services:\n  web:\n    image: a\n    configs: [c]\nconfigs:\n  c: {}\n",
            codes::MISSING_KEY,
            6,
            3,
            "config `c` needs",
        ),
        (
            "services:\n  web:\n    image: a\n    env_file: bad.env\n",
            codes::INVALID_VALUE,
            4,
            15,
            "env_file `bad.env`, line 1",
        ),
    ];
    let sent = files(&[("bad.env", "A=\"unclosed\n")]);
    for (text, code, line, column, says) in cases {
        let compiled = compile_with_files(text, &sent, &options());
        let errors: Vec<_> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| (d.code.as_str(), d.line, d.column, d.message.as_str()))
            .collect();
        assert!(
            matches!(errors.as_slice(), [(c, l, col, m)] if c == code && (*l, *col) == (*line, *column) && m.contains(says)),
            "{text}: expected {code} at {line}:{column} saying {says:?}, got {errors:#?}"
        );
    }
}

#[test]
fn files_above_the_policy_cap_are_refused_at_the_mount_that_crosses_it() {
    let text = "services:\n  web:\n    image: a\n    volumes:\n      - ./small.txt:/small.txt\n      - ./big.bin:/big.bin\n";
    let mut sent = files(&[("small.txt", "x")]);
    sent.insert("big.bin".into(), vec![0xff; 2048]);
    let mut options = options();
    options.policy.max_files_size = "2Ki".into();
    let compiled = compile_with_files(text, &sent, &options);
    let error = compiled
        .diagnostics
        .iter()
        .find(|d| d.code == codes::FILES_TOO_LARGE)
        .expect("refused");
    assert_eq!((error.line, error.column), (6, 9));
    assert!(error.message.contains("2049 bytes") && error.message.contains("max_files_size"));
    // Under the cap, binary files are binaryData.
    options.policy.max_files_size = "1Mi".into();
    let plan = compile_with_files(text, &sent, &options).plan.unwrap();
    let config_map = plan.config_map.unwrap();
    assert_eq!(config_map.binary_data.unwrap()["big.bin"].0.len(), 2048);
}

#[test]
fn referenced_files_are_exactly_what_the_compile_reads() {
    let text = "services:\n  web:\n    image: a\n    env_file: [./a.env, {path: opt.env, required: false}]\n    volumes:\n      - ./conf/x.conf:/x.conf\n      - ./site:/site\n      - ./conf/x.conf:/y.conf\n      - data:/data\n      - /srv:/srv\n    configs: [c]\n    secrets: [s]\nconfigs:\n  c:\n    file: c.txt\n  d:\n    content: inline\nsecrets:\n  s:\n    file: ./s.txt\nvolumes:\n  data: {}\n";
    let references = referenced_files(text, &options());
    let listed: Vec<(&str, ReferenceKind)> = references
        .iter()
        .map(|r| (r.path.as_str(), r.kind))
        .collect();
    assert_eq!(
        listed,
        [
            ("c.txt", ReferenceKind::Config),
            ("s.txt", ReferenceKind::Secret),
            ("a.env", ReferenceKind::EnvFile),
            ("opt.env", ReferenceKind::EnvFile),
            ("conf/x.conf", ReferenceKind::Mount),
            ("site", ReferenceKind::Mount),
        ]
    );
    // Files that are referenced change the plan; a file nobody names changes nothing.
    let sent = files(&[
        ("a.env", "A=1"),
        ("conf/x.conf", "x"),
        ("site/index.html", "i"),
        ("c.txt", "c"),
        ("s.txt", "s"),
    ]);
    let mut options = CompileOptions {
        policy: tycho_compiler::Policy {
            allowed_host_paths: vec!["/srv".into()],
            ..Default::default()
        },
        ..options()
    };
    options.guid = "abc".into();
    let with = compile_with_files(text, &sent, &options);
    assert!(!with.has_errors(), "{:#?}", with.diagnostics);
    let mut more = sent.clone();
    more.insert("unrelated.txt".into(), b"u".to_vec());
    more.insert("conf/other.conf".into(), b"o".to_vec());
    let with_more = compile_with_files(text, &more, &options);
    assert_eq!(with.plan, with_more.plan);
    for reference in &references {
        let mut without: Files = sent.clone();
        without.retain(|path, _| {
            path != &reference.path && !path.starts_with(&format!("{}/", reference.path))
        });
        if without.len() == sent.len() {
            continue; // opt.env was never sent
        }
        let compiled = compile_with_files(text, &without, &options);
        assert_ne!(
            (compiled.plan, compiled.diagnostics),
            (with.plan.clone(), with.diagnostics.clone()),
            "{} is listed but not read",
            reference.path
        );
    }
}

/// A small deterministic generator (xorshift), so the property below runs the same cases
/// every time without a property-testing crate.
struct Cases(u64);

impl Cases {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }

    /// A project path of one to three segments.
    fn path(&mut self, i: usize) -> String {
        let dirs = ["conf", "etc", "a.b", "deep/er", "x-y"];
        match self.next(3) {
            0 => format!("f{i}.txt"),
            1 => format!("{}/f{i}.conf", dirs[self.next(dirs.len())]),
            _ => format!("{}/sub/f{i}", dirs[self.next(dirs.len())]),
        }
    }
}

/// For generated compose files naming files in every way (env_file, bind-mounted files and
/// folders, configs, secrets, with `./` or not): `referenced_files` lists exactly the paths
/// named; with exactly those files sent the file compiles; files nobody names change nothing;
/// and every stored key holds the bytes of one file that was named.
#[test]
fn every_path_named_is_listed_and_read_and_nothing_else() {
    let mut cases = Cases(0x9e37_79b9_7f4a_7c15);
    for case in 0..200 {
        let mut text = String::from("services:\n  web:\n    image: a\n");
        let (mut env_files, mut mounts, mut configs, mut secrets) =
            (vec![], vec![], vec![], vec![]);
        let mut named: std::collections::BTreeSet<String> = Default::default();
        let mut sent = Files::new();
        for i in 0..1 + cases.next(6) {
            let path = cases.path(case * 10 + i);
            let written = if cases.next(2) == 0 {
                format!("./{path}")
            } else {
                path.clone()
            };
            match cases.next(5) {
                0 => {
                    env_files.push(written);
                    sent.insert(path.clone(), format!("V{i}=x\n").into_bytes());
                }
                1 => {
                    let target = format!("/m/{i}");
                    mounts.push(format!("./{}:{target}", written.trim_start_matches("./")));
                    sent.insert(path.clone(), vec![i as u8; 3]);
                }
                2 => {
                    // A folder: two files below it.
                    let folder = format!("dir{i}-{case}");
                    mounts.push(format!("./{folder}:/d/{i}"));
                    sent.insert(format!("{folder}/one"), b"1".to_vec());
                    sent.insert(format!("{folder}/two/deeper"), b"2".to_vec());
                    named.insert(folder);
                    continue;
                }
                3 => {
                    configs.push((format!("c{i}"), written));
                    sent.insert(path.clone(), b"config".to_vec());
                }
                _ => {
                    secrets.push((format!("s{i}"), written));
                    sent.insert(path.clone(), b"secret".to_vec());
                }
            }
            named.insert(path);
        }
        let list = |items: &[String]| {
            items
                .iter()
                .map(|i| format!("\"{i}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !env_files.is_empty() {
            text.push_str(&format!("    env_file: [{}]\n", list(&env_files)));
        }
        if !mounts.is_empty() {
            text.push_str(&format!("    volumes: [{}]\n", list(&mounts)));
        }
        let names =
            |items: &[(String, String)]| items.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        if !configs.is_empty() {
            text.push_str(&format!("    configs: [{}]\n", names(&configs).join(", ")));
        }
        if !secrets.is_empty() {
            text.push_str(&format!("    secrets: [{}]\n", names(&secrets).join(", ")));
        }
        for (section, items) in [("configs", &configs), ("secrets", &secrets)] {
            if !items.is_empty() {
                text.push_str(&format!("{section}:\n"));
                for (name, file) in items.iter() {
                    text.push_str(&format!("  {name}:\n    file: \"{file}\"\n"));
                }
            }
        }
        let listed: std::collections::BTreeSet<String> = referenced_files(&text, &options())
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(listed, named, "case {case}:\n{text}");
        let compiled = compile_with_files(&text, &sent, &options());
        assert!(
            !compiled.has_errors(),
            "case {case}:\n{text}\n{:#?}",
            compiled.diagnostics
        );
        let mut noisy = sent.clone();
        noisy.insert("unnamed.txt".into(), b"n".to_vec());
        noisy.insert(format!("conf/noise-{case}"), b"n".to_vec());
        let with_noise = compile_with_files(&text, &noisy, &options());
        assert_eq!(
            compiled.plan, with_noise.plan,
            "case {case}: a file nobody names changed the plan"
        );
        let plan = compiled.plan.expect("compiles");
        let stored: usize = plan
            .config_map
            .iter()
            .map(|c| {
                c.data.as_ref().map_or(0, |d| d.len())
                    + c.binary_data.as_ref().map_or(0, |d| d.len())
            })
            .sum::<usize>()
            + plan
                .secret
                .iter()
                .map(|s| s.data.as_ref().map_or(0, |d| d.len()))
                .sum::<usize>();
        let mounted = sent.len() - env_files.len();
        assert_eq!(
            stored, mounted,
            "case {case}: every stored key is one named file\n{text}"
        );
    }
}
