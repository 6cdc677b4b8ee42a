//! How many probes may run at once: each holds a file descriptor, so the
//! open-files limit (raised to its hard ceiling first) bounds concurrency.

/// Descriptors kept free for the runtime, stdio, name resolution and output.
const RESERVED_FDS: u64 = 64;

/// Raises RLIMIT_NOFILE's soft limit to the hard one; returns the soft limit now in force.
pub fn raise_nofile() -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read/write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) != 0 {
            return 1024;
        }
        if r.rlim_cur < r.rlim_max {
            let want = libc::rlimit {
                rlim_cur: r.rlim_max,
                rlim_max: r.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &want) == 0 {
                r.rlim_cur = r.rlim_max;
            }
        }
    }
    r.rlim_cur
}

/// The number of descriptors probes or listeners may hold at once.
pub fn fd_budget() -> usize {
    let soft = raise_nofile();
    usize::try_from(soft.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX)
}

/// Concurrency for a probe run: the user's wish, never above the fd budget.
pub fn concurrency(wanted: Option<usize>) -> usize {
    let budget = fd_budget();
    // A UDP probe holds one fd and a TCP probe one; leave a quarter spare.
    let cap = (budget * 3 / 4).max(8);
    wanted.unwrap_or(2048).clamp(1, cap)
}
