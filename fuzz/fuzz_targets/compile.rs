//! Load + plan on arbitrary bytes: must never panic, and every error must carry a position.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tycho_compiler::{CompileOptions, compile, decode};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = decode(data) else { return };
    let options = CompileOptions { guid: "fuzz".into(), ..Default::default() };
    let compiled = compile(text, &options);
    for d in &compiled.diagnostics {
        assert!(d.line > 0 || d.code == "TY0406", "diagnostic without position: {d:?}");
    }
    if let Some(plan) = compiled.plan {
        let _ = plan.to_yaml();
    }
});
