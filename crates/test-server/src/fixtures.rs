//! What tests start: one compose file with one published port, the images it runs, the policy
//! the test server compiles with, and a dashboard folder.

use crate::TestCluster;
use tycho_fake_kube::PodBehavior;

/// Runs as non-root (the compiler's secure default), listens on 8080.
pub const IMAGE: &str = "nginxinc/nginx-unprivileged:stable-alpine";

/// Never pulls: a real cluster cannot resolve the registry, and the fake is told so by
/// [`make_bad_image_fail`].
pub const BAD_IMAGE: &str = "registry.invalid/tycho-test/does-not-exist:0";

/// What images containing this fail to pull on the fake.
const BAD_IMAGE_PATTERN: &str = "does-not-exist";

/// One service, `web`, running `image` and publishing 8080.
pub fn compose(image: &str) -> String {
    format!("services:\n  web:\n    image: {image}\n    ports:\n      - \"8080:8080\"\n")
}

/// Two containers that log: `logger` prints `one`, `two`, `three` and sleeps; `ticker` prints
/// `tick` every second (busybox, as a numeric user; both stop on SIGTERM).
pub const LOGGING_COMPOSE: &str = "services:
  logger:
    image: busybox:1.36
    user: \"1000\"
    command: [\"sh\", \"-c\", \"echo one; echo two; echo three; trap 'exit 0' TERM; while true; do sleep 1; done\"]
  ticker:
    image: busybox:1.36
    user: \"1000\"
    command: [\"sh\", \"-c\", \"trap 'exit 0' TERM; while true; do sleep 1; echo tick; done\"]
";

/// On the fake, the lines `logger` of [`LOGGING_COMPOSE`] prints on a cluster.
pub fn write_logger_lines(cluster: &TestCluster) {
    if let Some(fake) = &cluster.fake {
        fake.append_logs("logger", &["one", "two", "three"]);
    }
}

/// On the fake, images like [`BAD_IMAGE`] go to `ImagePullBackOff`; a real cluster needs no
/// telling (the registry does not resolve).
pub fn make_bad_image_fail(cluster: &TestCluster) {
    if let Some(fake) = &cluster.fake {
        fake.set_image_behavior(BAD_IMAGE_PATTERN, PodBehavior::ImagePullBackOff);
    }
}

/// The CPU each test pod asks for. The server's tests start about twenty systems at once
/// (they run in parallel); at the default 250m each, a one-node kind or k3s cluster would
/// leave many of them Pending, and the tests that wait for Running would wait for the others
/// to go. Memory stays at the default: it is also the limit, and nginx needs its room.
pub const TEST_CPU: &str = "10m";

/// The default policy, asking for [`TEST_CPU`].
pub fn test_policy() -> tycho_compiler::Policy {
    let mut policy = tycho_compiler::Policy::default();
    policy.default_resources.cpu = TEST_CPU.into();
    policy
}

/// A fresh dashboard folder in the temp dir holding `files` (name, content); remove it after.
pub fn dist_dir(tag: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tycho-dist-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the dist folder");
    for (name, content) in files {
        std::fs::write(dir.join(name), content).expect("write a dist file");
    }
    dir
}
