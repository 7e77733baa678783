//! The `usher` binary.
#![forbid(unsafe_code)]

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    usher_api::cli::main().await
}
