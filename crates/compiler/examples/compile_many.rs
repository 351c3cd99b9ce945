//! Compiles the datascience-notebook sample N times (default 1000): a steady workload for
//! profilers such as `valgrind --tool=callgrind`.
use tycho_compiler::{CompileOptions, compile};

const SAMPLE: &str = include_str!("../benches/fixtures/jupyter-ds.yaml");
/// The policy the samples need (the sample mounts an existing claim, which the default policy
/// refuses), as the golden tests use it.
const POLICY: &str = include_str!("../tests/data/policy-samples.yaml");

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let options = CompileOptions {
        name: "jupyter-ds".into(),
        policy: tycho_compiler::parse_policy(POLICY).expect("the samples policy reads"),
        guid: "0123456789abcdef".into(),
        ..Default::default()
    };
    let mut objects = 0;
    for _ in 0..count {
        objects += compile(SAMPLE, &options)
            .plan
            .map_or(0, |p| p.objects().len());
    }
    println!("{count} compiles, {objects} objects");
}
