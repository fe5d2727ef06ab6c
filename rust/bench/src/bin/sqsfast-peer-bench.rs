//! `sqsfast-peer-bench`: the workloads of `sqsfast bench`, run by the same runner, against a peer
//! broker: Redis Streams (`redis://`), RabbitMQ (`amqp://`) or PostgreSQL (`postgres://`).
//!
//! ```text
//! sqsfast-peer-bench --target redis://127.0.0.1:6379 --producers 4 --consumers 4 \
//!     --batch 10 --size 256 --duration 10s --json redis.json
//! ```
//!
//! The workload flags are those of `sqsfast bench` and mean the same; the JSON report has the
//! same shape. `benches/peers/run.py` starts each peer and calls this for it.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqsfast_bench::peers::{AmqpDriver, PeerKind, PostgresDriver, RedisDriver};
use sqsfast_bench::{Config, Driver, Error, Progress, Report, Workload, run_blocking};

const USAGE: &str = "\
usage: sqsfast-peer-bench --target URL [options]

targets:
  redis://HOST:PORT                      Redis Streams, consumer group (XADD / XREADGROUP / XACK+XDEL)
  amqp://USER:PASS@HOST:PORT/VHOST       RabbitMQ: durable queue, persistent messages, publisher confirms
  postgres://USER@HOST:PORT/DB           PostgreSQL, pgmq-style table with FOR UPDATE SKIP LOCKED

workload (as `sqsfast bench`):
  --workload steady|fill-drain|rate|long-poll   (default steady)
  --producers N        (default 4)     --consumers N    (default 4)
  --batch N            (default 10; 1 for long-poll)    --size BYTES (default 256)
  --queues N           (default 1)     --duration D     (default 10s; 500ms, 10s, 2m)
  --messages N         (messages in all; with --duration, whichever ends first)
  --rate R             (messages/s in all, for rate and long-poll; long-poll default 100)
  --wait D             (long-poll wait of a receive, default 1s; 5s for long-poll)
  --drain-timeout D    (default 10s)
  --queue-prefix P     (default sqsfast-bench)
  --threads N          (threads of the load generator; default one per core)

peer settings:
  --amqp-prefetch N    (basic.qos prefetch per consumer, default 1000)
  --pg-poll D          (sleep between reads of an empty queue while a receive waits, default 10ms)

output:
  --json FILE          the report as JSON ('-' for stdout)
  --quiet              no progress line
";

struct Args {
    target: String,
    config: Config,
    json: Option<String>,
    quiet: bool,
    amqp_prefetch: u16,
    pg_poll: Duration,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("not a duration: {s:?} (e.g. 500ms, 10s, 2m)");
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => s.split_at(i),
        None => (s, "s"),
    };
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut target = None;
    let mut config = Config::default();
    let mut json = None;
    let mut quiet = false;
    let mut amqp_prefetch = 1000u16;
    let mut pg_poll = Duration::from_millis(10);
    let mut duration_given = false;
    let (mut batch, mut rate, mut wait) = (None, None, None);
    while let Some(flag) = argv.next() {
        if flag == "-h" || flag == "--help" {
            return Err(String::new());
        }
        if flag == "--quiet" {
            quiet = true;
            continue;
        }
        let (flag, value) = match flag.split_once('=') {
            Some((f, v)) => (f.to_owned(), v.to_owned()),
            None => {
                let v = argv.next().ok_or_else(|| format!("{flag} needs a value"))?;
                (flag, v)
            }
        };
        let num = |what: &str| -> Result<u64, String> {
            value
                .replace('_', "")
                .parse()
                .map_err(|_| format!("{what} needs a whole number, not {value:?}"))
        };
        match flag.as_str() {
            "--target" => target = Some(value),
            "--workload" => config.workload = value.parse()?,
            "--producers" => config.producers = num(&flag)? as usize,
            "--consumers" => config.consumers = num(&flag)? as usize,
            "--batch" => batch = Some(num(&flag)? as usize),
            "--size" => config.size = num(&flag)? as usize,
            "--queues" => config.queues = num(&flag)? as usize,
            "--duration" => {
                config.duration = Some(parse_duration(&value)?);
                duration_given = true;
            }
            "--messages" => config.messages = Some(num(&flag)?),
            "--rate" => {
                rate = Some(
                    value
                        .parse()
                        .map_err(|_| format!("--rate needs a number, not {value:?}"))?,
                )
            }
            "--wait" => wait = Some(parse_duration(&value)?),
            "--drain-timeout" => config.drain_timeout = parse_duration(&value)?,
            "--threads" => config.threads = Some(num(&flag)? as usize),
            "--queue-prefix" => config.queue_prefix = value,
            "--amqp-prefetch" => {
                amqp_prefetch = u16::try_from(num(&flag)?)
                    .map_err(|_| "--amqp-prefetch must be at most 65535".to_owned())?
            }
            "--pg-poll" => pg_poll = parse_duration(&value)?,
            "--json" => json = Some(value),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    // The defaults of `sqsfast bench`: long-poll sends single messages at 100/s into 5 s polls.
    let long_poll = config.workload == Workload::LongPoll;
    config.batch = batch.unwrap_or(if long_poll { 1 } else { 10 });
    config.rate = rate.or(long_poll.then_some(100.0));
    config.wait = wait.unwrap_or(Duration::from_secs(if long_poll { 5 } else { 1 }));
    // `--messages` alone means "until that many", as in `sqsfast bench`.
    if config.messages.is_some() && !duration_given {
        config.duration = None;
    }
    let target = target.ok_or("--target is required")?;
    if PeerKind::of(&target).is_none() {
        return Err(format!(
            "{target}: not a peer target (redis://, amqp://, postgres://); \
             sqsfast and SQS endpoints are run by `sqsfast bench`"
        ));
    }
    config.validate()?;
    Ok(Args {
        target,
        config,
        json,
        quiet,
        amqp_prefetch,
        pg_poll,
    })
}

/// Sets `cancel` on the first Ctrl-C, so that the run stops, drains and deletes its queues.
fn cancel_on_ctrl_c(cancel: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
            cancel.store(true, Ordering::Relaxed);
        }
    });
}

/// Runs the workload against `driver` exactly as `sqsfast bench` runs its targets
/// ([`run_blocking`]: the same runner on the same kind of runtime).
fn run_with<D: Driver>(driver: D, args: &Args) -> Result<Report, Error> {
    let cancel = Arc::new(AtomicBool::new(false));
    cancel_on_ctrl_c(cancel.clone());
    let name = driver.name();
    let progress = move |p: &Progress| {
        eprint!(
            "\r{name} {:>5.1}s {:<5} sent {:>10} received {:>10} ({:>9.0}/s in, {:>9.0}/s out) dup {} err {}   ",
            p.elapsed_s,
            p.phase,
            p.sent,
            p.received,
            p.send_per_s,
            p.receive_per_s,
            p.duplicates,
            p.errors,
        );
    };
    let progress: Option<&(dyn Fn(&Progress) + Send + Sync)> =
        if args.quiet { None } else { Some(&progress) };
    let report = run_blocking(driver, args.config.clone(), cancel, progress);
    if !args.quiet {
        eprintln!();
    }
    report
}

fn run(args: &Args) -> Result<Report, Error> {
    match PeerKind::of(&args.target) {
        Some(PeerKind::Redis) => run_with(RedisDriver::new(&args.target)?, args),
        Some(PeerKind::Amqp) => run_with(AmqpDriver::new(&args.target, args.amqp_prefetch), args),
        Some(PeerKind::Postgres) => run_with(PostgresDriver::new(&args.target, args.pg_poll), args),
        None => Err("not a peer target".into()),
    }
}

fn summary(r: &Report) -> String {
    let l = &r.latency_us;
    format!(
        "{} {}: {:.0} msg/s sent, {:.0} msg/s received+deleted; send p50 {:.0} µs p99 {:.0} µs; \
         end-to-end p50 {:.0} µs p99 {:.0} µs; sent {} received {} duplicates {} lost {} errors {}; \
         client CPU {:.2} cores{}",
        r.target,
        r.workload,
        r.send.msg_per_s,
        r.receive.msg_per_s,
        l.send.p50,
        l.send.p99,
        l.end_to_end.p50,
        l.end_to_end.p99,
        r.sent,
        r.received,
        r.duplicates,
        r.lost,
        r.errors.total,
        r.cpu.cores,
        if r.ok { "" } else { " — FAILED" },
    )
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("sqsfast-peer-bench: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let report = match run(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sqsfast-peer-bench: {}: {e}", args.target);
            return ExitCode::FAILURE;
        }
    };
    eprintln!("{}", summary(&report));
    if let Some(path) = &args.json {
        let text = match serde_json::to_string_pretty(&report) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("sqsfast-peer-bench: cannot encode the report: {e}");
                return ExitCode::FAILURE;
            }
        };
        let written = if path == "-" {
            println!("{text}");
            Ok(())
        } else {
            std::fs::write(path, text + "\n")
        };
        if let Err(e) = written {
            eprintln!("sqsfast-peer-bench: {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    if report.ok && report.sent > 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(argv: &[&str]) -> Result<Args, String> {
        parse_args(argv.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn durations_read_as_sqsfast_bench_reads_them() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("ten").is_err());
        assert!(parse_duration("5d").is_err());
    }

    #[test]
    fn workload_flags_set_the_runner_config() {
        let a = args(&[
            "--target=redis://127.0.0.1:6379",
            "--producers",
            "2",
            "--batch",
            "7",
            "--duration",
            "3s",
            "--workload",
            "rate",
            "--rate",
            "500",
        ])
        .unwrap();
        assert_eq!(a.config.producers, 2);
        assert_eq!(a.config.batch, 7);
        assert_eq!(a.config.duration, Some(Duration::from_secs(3)));
        assert_eq!(a.config.rate, Some(500.0));
        assert_eq!(a.config.wait, Duration::from_secs(1));
    }

    #[test]
    fn long_poll_has_the_same_defaults_as_sqsfast_bench() {
        let a = args(&["--target", "amqp://127.0.0.1", "--workload", "long-poll"]).unwrap();
        assert_eq!((a.config.batch, a.config.rate), (1, Some(100.0)));
        assert_eq!(a.config.wait, Duration::from_secs(5));
    }

    #[test]
    fn messages_alone_runs_until_that_many() {
        let a = args(&["--target", "postgres://u@h/db", "--messages", "1000"]).unwrap();
        assert_eq!((a.config.messages, a.config.duration), (Some(1000), None));
    }

    #[test]
    fn sqs_targets_and_unknown_flags_are_refused() {
        assert!(args(&["--target", "grpc://127.0.0.1:9325"]).is_err());
        assert!(args(&["--target", "redis://h", "--bogus", "1"]).is_err());
        assert!(args(&["--duration", "1s"]).is_err());
    }
}
