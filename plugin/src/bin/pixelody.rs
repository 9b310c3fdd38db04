fn main() {
    std::process::exit(pixelody::cli::main(std::env::args_os().skip(1).collect()));
}
