//! The `forecourt` binary: parse arguments, set up logging, run one command,
//! map the outcome to an exit code. Everything else lives in the library.

use std::process::ExitCode;

// A sync allocates and frees many small strings and JSON values on every
// thread at once (plugin results, SQL rows, HTTP messages); glibc's malloc
// spent ~15% of a 10,000-vehicle initial sync's CPU on that.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = <forecourt::cli::Cli as clap::Parser>::parse();
    forecourt::cli::init_logging(&cli);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(forecourt::cli::EXIT_RUNTIME);
        }
    };
    match runtime.block_on(forecourt::cli::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(forecourt::cli::exit_code_for(&error))
        }
    }
}
