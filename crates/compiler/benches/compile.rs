//! Time to compile the datascience-notebook sample (goal: ≤ 50 µs per compile).
//! Run: `cargo bench -p tycho-compiler --bench compile`

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tycho_compiler::{CompileOptions, compile};

const SAMPLE: &str = include_str!("fixtures/jupyter-ds.yaml");
/// The policy the samples need (the sample mounts an existing claim, which the default policy
/// refuses), as the golden tests use it.
const POLICY: &str = include_str!("../tests/data/policy-samples.yaml");

fn bench(c: &mut Criterion) {
    let options = CompileOptions {
        name: "jupyter-ds".into(),
        policy: tycho_compiler::parse_policy(POLICY).expect("the samples policy reads"),
        guid: "0123456789abcdef".into(),
        ..Default::default()
    };
    assert!(
        compile(SAMPLE, &options).plan.is_some(),
        "the sample must compile"
    );
    c.bench_function("compile jupyter-ds sample", |b| {
        b.iter(|| compile(black_box(SAMPLE), black_box(&options)))
    });
    c.bench_function("compile + render YAML", |b| {
        b.iter(|| {
            compile(black_box(SAMPLE), black_box(&options))
                .plan
                .map(|p| p.to_yaml())
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
