//! validate + compile of the 10-service benchmark file natively, through the same JSON layer the
//! wasm exports use, timed like the browser page does (median of batch means).

use std::hint::black_box;
use std::time::Instant;

/// The benchmark input, shared with the browser page (`assets/wasm-demo/bench.html`).
pub const TEXT: &str = include_str!("../../../../assets/wasm-demo/ten-services.yaml");
/// The options the browser page passes.
pub const OPTIONS: &str = r#"{"name":"bench","guid":"0123456789abcdef"}"#;

/// Median, minimum and maximum microseconds per validate + compile.
pub fn median_micros(batches: usize, per_batch: u32) -> (f64, f64, f64) {
    let once = || {
        let options = tycho_wasm::parse_options(OPTIONS).expect("options");
        let diagnostics = tycho_wasm::validate_value(black_box(TEXT), &options);
        let result = tycho_wasm::compile_value(black_box(TEXT), &options);
        // The wasm side also writes both results as JSON text (then JSON.parse): do the same.
        let json = (
            tycho_wasm::to_json_text(&diagnostics),
            tycho_wasm::to_json_text(&result),
        );
        assert!(result["ok"] == true && diagnostics.as_array().is_some_and(Vec::is_empty));
        black_box(json);
    };
    for _ in 0..200 {
        once();
    }
    let mut per_call: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..per_batch {
                once();
            }
            start.elapsed().as_secs_f64() * 1e6 / f64::from(per_batch)
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    (
        per_call[per_call.len() / 2],
        per_call[0],
        per_call[per_call.len() - 1],
    )
}
