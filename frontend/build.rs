//! Embeds the catalog (`assets/catalog/*/docker-compose.yaml`) so the dashboard works offline:
//! writes `$OUT_DIR/catalog.rs`, a list of `(folder, include_str!(file))`.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .join("../assets/catalog");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("docker-compose.yaml").is_file());
    dirs.sort();
    let mut out = String::from("pub const CATALOG: &[(&str, &str)] = &[\n");
    for dir in dirs {
        let file = dir.join("docker-compose.yaml");
        println!("cargo:rerun-if-changed={}", file.display());
        let slug = dir.file_name().unwrap_or_default().to_string_lossy();
        let path = file.canonicalize().unwrap_or(file);
        let _ = writeln!(
            out,
            "    ({slug:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("catalog.rs");
    std::fs::write(dest, out).expect("write catalog.rs");
}
