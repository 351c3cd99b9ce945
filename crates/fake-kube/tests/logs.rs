//! `pods/{name}/log`: the lines tests set, `tailLines`, `previous`, the API server's 400s for
//! a missing or unknown container, and `follow` sending later lines until the pod is gone.

mod common;

use std::time::Duration;

use common::{api_err, fake, obj};
use futures::AsyncBufReadExt;
use futures::TryStreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, LogParams, PostParams};
use serde_json::json;

async fn two_container_pod(client: &kube::Client) -> Api<Pod> {
    let pods = Api::<Pod>::default_namespaced(client.clone());
    let pod: Pod = obj(json!({
        "metadata": {"name": "p"},
        "spec": {
            "initContainers": [{"name": "setup", "image": "busybox"}],
            "containers": [{"name": "web", "image": "nginx"}, {"name": "db", "image": "postgres"}]
        }
    }));
    pods.create(&PostParams::default(), &pod).await.unwrap();
    pods
}

fn of(container: &str) -> LogParams {
    LogParams {
        container: Some(container.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn logs_are_the_lines_set_for_the_container() {
    let (fake, client) = fake().await;
    let pods = two_container_pod(&client).await;
    fake.append_logs("web", &["a", "b", "c"]);
    assert_eq!(pods.logs("p", &of("web")).await.unwrap(), "a\nb\nc\n");
    assert_eq!(pods.logs("p", &of("db")).await.unwrap(), "");
    let tail = LogParams {
        tail_lines: Some(2),
        ..of("web")
    };
    assert_eq!(pods.logs("p", &tail).await.unwrap(), "b\nc\n");

    let previous = LogParams {
        previous: true,
        ..of("web")
    };
    let (code, _, message) = api_err(pods.logs("p", &previous).await);
    assert_eq!(code, 400);
    assert_eq!(
        message,
        "previous terminated container \"web\" in pod \"p\" not found"
    );
    fake.set_previous_logs("web", &["crashed"]);
    assert_eq!(pods.logs("p", &previous).await.unwrap(), "crashed\n");
}

#[tokio::test]
async fn a_missing_or_unknown_container_is_the_api_servers_400() {
    let (fake, client) = fake().await;
    let pods = two_container_pod(&client).await;
    let (code, reason, message) = api_err(pods.logs("p", &of("cache")).await);
    assert_eq!((code, reason.as_str()), (400, "BadRequest"));
    assert_eq!(message, "container cache is not valid for pod p");
    let (code, _, message) = api_err(pods.logs("p", &LogParams::default()).await);
    assert_eq!(code, 400);
    assert_eq!(
        message,
        "a container name must be specified for pod p, choose one of: [web db] or one of the init containers: [setup]"
    );
    let (code, _, message) = api_err(pods.logs("gone", &of("web")).await);
    assert_eq!((code, message.as_str()), (404, "pods \"gone\" not found"));
    fake.forbid("get", "pods/log");
    let (code, _, message) = api_err(pods.logs("p", &of("web")).await);
    assert_eq!(code, 403);
    assert!(
        message.starts_with("pods \"p\" is forbidden") && message.contains("\"pods/log\""),
        "{message}"
    );
}

#[tokio::test]
async fn follow_sends_later_lines_until_the_pod_is_gone() {
    let (fake, client) = fake().await;
    let pods = two_container_pod(&client).await;
    fake.append_logs("web", &["before"]);
    let follow = LogParams {
        follow: true,
        ..of("web")
    };
    let mut lines = pods.log_stream("p", &follow).await.unwrap().lines();
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("before"));
    fake.append_logs("web", &["after"]);
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("after"));
    pods.delete("p", &DeleteParams::default()).await.unwrap();
    assert_eq!(next_line(&mut lines).await, None);
}

/// The next line of a followed log (`None` at its end), within 5 s.
async fn next_line<S>(lines: &mut S) -> Option<String>
where
    S: futures::Stream<Item = std::io::Result<String>> + Unpin,
{
    tokio::time::timeout(Duration::from_secs(5), lines.try_next())
        .await
        .expect("a line or the end within 5 s")
        .expect("the log stream")
}
