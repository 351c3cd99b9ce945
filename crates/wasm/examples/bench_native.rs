//! The native figures beside the browser benchmark (`tests/browser_bench.rs`): checking and
//! compiling the same 10-service file (`assets/wasm-demo/ten-services.yaml`), then where the time goes.
//!
//! Run: `cargo run --release -p tycho-wasm --example bench-native`

#[path = "../tests/common/native_bench.rs"]
mod native_bench;

use std::hint::black_box;
use std::time::Instant;

fn time(label: &str, mut f: impl FnMut()) {
    for _ in 0..20 {
        f();
    }
    let start = Instant::now();
    for _ in 0..200 {
        f();
    }
    println!(
        "  {label:<34} {:8.1} µs",
        start.elapsed().as_secs_f64() * 1e6 / 200.0
    );
}

fn main() {
    for (calls, label) in [
        (
            native_bench::Calls::Compile,
            "compile() (validates and compiles)",
        ),
        (
            native_bench::Calls::ValidateThenCompile,
            "validate() then compile()",
        ),
    ] {
        let (median, min, max) = native_bench::median_micros(calls, 60, 25);
        println!(
            "native {label}, 10 services: median {median:.1} µs (min {min:.1}, max {max:.1}, 1500 calls)"
        );
    }
    let text = native_bench::TEXT;
    let options = tycho_wasm::parse_options(native_bench::OPTIONS).expect("options");
    let plan = tycho_compiler::compile(text, &options)
        .plan
        .expect("compiles");
    let value = tycho_wasm::compile_value(text, &options);
    println!("where the time goes (mean of 200):");
    time("tycho_compiler::compile", || {
        black_box(tycho_compiler::compile(black_box(text), &options));
    });
    time("Plan::to_json_objects", || {
        black_box(plan.to_json_objects());
    });
    time("Plan::to_yaml", || {
        black_box(plan.to_yaml());
    });
    time("compile_value (all of compile)", || {
        black_box(tycho_wasm::compile_value(black_box(text), &options));
    });
    time("to_json_text (result)", || {
        black_box(tycho_wasm::to_json_text(&value));
    });
}
