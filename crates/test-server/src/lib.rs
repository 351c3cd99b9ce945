//! The one test harness for Tycho's server: the real server on `127.0.0.1:0` over the
//! in-process fake Kubernetes API or a real cluster ([`TestCluster::start`] reads
//! `TYCHO_TEST_KUBECONFIG`; [`TestCluster::start_fake`] is always the fake, for fault
//! injection), used by the server's, the client's, the CLI's and the browser tests.
//!
//! - [`users`]: the fixed tokens ([`ALICE`], [`BOB`], [`ADMIN`]) and the auth that knows them;
//! - [`fixtures`]: the compose file tests start, the image it runs, the test policy;
//! - [`server`]: [`TestServer`], its [`settings`], and how it is started;
//! - [`requests`]: raw HTTP for tests about the wire, the typed client for the rest, and the
//!   lifecycle helpers (start, wait, delete until gone);
//! - [`waits`]: waits on the cluster side (objects left, readiness timeouts).
//!
//! ```no_run
//! # async fn demo() {
//! use tycho_test_server::*;
//! let cluster = TestCluster::start("my-test").await;
//! let server = TestServer::on(&cluster).await;
//! let guid = server.start_system(ALICE, &compose(IMAGE), "web").await;
//! server.delete_gone(ALICE, &guid).await;
//! cluster.cleanup().await;
//! # }
//! ```

pub mod fixtures;
pub mod requests;
pub mod server;
pub mod users;
pub mod waits;

pub use fixtures::{
    BAD_IMAGE, IMAGE, LOGGING_COMPOSE, TEST_CPU, compose, dist_dir, make_bad_image_fail,
    test_policy, write_logger_lines,
};
pub use requests::guids;
pub use server::{NO_CLUSTER_REASON, TestServer, settings};
pub use tycho_fake_kube::{FakeKube, PodBehavior, TestCluster};
pub use users::{ADMIN, ALICE, BOB, tokens};
pub use waits::{ready_timeout, wait_for_count};
