//! Lists your systems on a Tycho server.
//!
//! ```sh
//! TYCHO_URL=http://localhost:8099 TYCHO_TOKEN=… cargo run -p tycho-client --example list
//! ```

use tycho_client::{Client, DEFAULT_URL};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), tycho_client::Error> {
    let url = std::env::var("TYCHO_URL").unwrap_or_else(|_| DEFAULT_URL.into());
    let client = Client::builder(url)
        .maybe_token(std::env::var("TYCHO_TOKEN").ok())
        .build()?;
    let systems = client.list().await?;
    if systems.is_empty() {
        println!("None running");
    }
    for s in systems {
        let url = s.url.as_deref().unwrap_or("-");
        println!("{}\t{}\t{}\t{}", s.name, s.guid, s.phase.as_str(), url);
    }
    Ok(())
}
