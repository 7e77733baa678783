//! The `usher` binary.
#![forbid(unsafe_code)]

/// mimalloc instead of the system allocator: a request allocates and frees
/// many small objects across worker threads, where glibc's malloc spent a
/// seventh of the service's CPU (docs/benchmarks.md, "Where the time goes").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    usher_api::cli::main().await
}
