//! Compose input the API server would refuse with a 422 at start is refused by the compiler
//! instead, at its line and column, so `validate` and start never disagree (issue 13, item 5).
//! The fake API server refuses the same objects (crates/fake-kube/tests/realism.rs).

mod common;

use common::{errors, only_error};
use tycho_compiler::codes;

#[test]
fn host_entries_need_ip_addresses() {
    only_error(
        "services:\n  web:\n    image: a\n    extra_hosts:\n      - host.docker.internal:host-gateway\n",
        codes::INVALID_VALUE,
        5,
        9,
        "Docker's address of the host",
    );
    only_error(
        "services:\n  web:\n    image: a\n    extra_hosts:\n      db: example.org\n",
        codes::INVALID_VALUE,
        5,
        7,
        "`example.org` is not an IP address",
    );
    let fine = "services:\n  web:\n    image: a\n    extra_hosts:\n      - db:10.0.0.5\n      - v6=[2001:db8::5]\n";
    assert_eq!(errors(fine), vec![]);
}

#[test]
fn environment_names_kubernetes_refuses() {
    only_error(
        "services:\n  web:\n    image: a\n    environment:\n      - =value\n",
        codes::INVALID_NAME,
        5,
        9,
        "needs a name",
    );
    only_error(
        "services:\n  web:\n    image: a\n    environment:\n      \"A=B\": value\n",
        codes::INVALID_NAME,
        5,
        7,
        "`A=B` cannot be an environment variable's name",
    );
    only_error(
        "services:\n  web:\n    image: a\n    environment:\n      Grüße: hallo\n",
        codes::INVALID_NAME,
        5,
        7,
        "printable ASCII",
    );
    let fine = "services:\n  web:\n    image: a\n    environment:\n      - A.b-c=1\n      - WITH=equals=inside\n";
    assert_eq!(errors(fine), vec![]);
}

#[test]
fn user_and_group_ids_out_of_range() {
    only_error(
        "services:\n  web:\n    image: a\n    user: \"3000000000\"\n",
        codes::INVALID_VALUE,
        4,
        11,
        "user id 3000000000 is out of range",
    );
    only_error(
        "services:\n  web:\n    image: a\n    user: \"1000:-1\"\n",
        codes::INVALID_VALUE,
        4,
        11,
        "group id -1 is out of range",
    );
    only_error(
        "services:\n  web:\n    image: a\n    securityContext:\n      runAsUser: 4294967296\n",
        codes::INVALID_VALUE,
        5,
        18,
        "id 4294967296 is out of range",
    );
}
