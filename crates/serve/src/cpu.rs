//! CPU-bound jobs (search, check, plan, render) on at most one thread per
//! core, first come first served. Handed straight to `spawn_blocking`, 200
//! concurrent searches ran as 200 threads sharing 2 cores: none finished
//! until nearly all did, the async threads serving the cheap pages starved,
//! and a job whose client had gone kept its share. Queued here instead, a
//! job runs at full speed once started, and a client that leaves while
//! its job waits takes the job out of the queue. The queue is bounded: past
//! `WAITING_PER_CORE` jobs a core, a request is told to come back (503 with
//! Retry-After) at once, rather than held for minutes while the server's
//! memory grows. Child `portplan` jobs (engine.rs) wait in a queue of their
//! own, with a smaller bound: each holds an upload of up to --max-upload.

use crate::http::error::ApiError;
use axum::http::StatusCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Jobs allowed to wait per core: 200 clients searching at once on two
/// cores all wait (each waits a few seconds at most); a flood beyond that
/// is refused.
pub const WAITING_PER_CORE: usize = 256;

/// A fair queue for a few slots, with a bound on how many may wait.
#[derive(Debug, Clone)]
pub struct Queue {
    permits: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
}

/// One place in the queue, given back when the job starts or its client
/// leaves (the future is dropped).
struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Queue {
    /// `slots` jobs at once, `max_waiting` waiting for a slot.
    pub fn bounded(slots: usize, max_waiting: usize) -> Queue {
        Queue {
            permits: Arc::new(Semaphore::new(slots.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
        }
    }

    /// A slot, once one is free (tokio's semaphore is fair: first come,
    /// first served); 503 with Retry-After at once when the queue is full.
    pub async fn enter(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        let queued = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _place = Waiting(self.waiting.clone());
        if queued >= self.max_waiting {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!(
                    "the server is busy ({queued} requests are waiting their turn); try again in a moment"
                ),
            )
            .retry_after(1));
        }
        self.permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping"))
    }
}

/// The number of cores, as the queues count them.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

#[derive(Clone)]
pub struct CpuJobs {
    queue: Queue,
}

impl CpuJobs {
    pub fn new() -> CpuJobs {
        CpuJobs::with(cores())
    }

    /// At most `n` jobs at once, `n * WAITING_PER_CORE` waiting.
    pub fn with(n: usize) -> CpuJobs {
        CpuJobs::bounded(n, n.max(1) * WAITING_PER_CORE)
    }

    /// At most `n` jobs at once and `max_waiting` waiting for a core.
    pub fn bounded(n: usize, max_waiting: usize) -> CpuJobs {
        CpuJobs {
            queue: Queue::bounded(n, max_waiting),
        }
    }

    /// Runs `job` on a blocking thread once a core is free.
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self.queue.enter().await?;
        // The permit goes with the job: a started job holds its core until
        // it ends, even if its client has gone.
        tokio::task::spawn_blocking(move || {
            let _core = permit;
            job()
        })
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
    }
}

impl Default for CpuJobs {
    fn default() -> Self {
        CpuJobs::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::mpsc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_jobs_run_at_once_than_permits() {
        let jobs = CpuJobs::with(2);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for i in 0..8 {
            let (jobs, running, most) = (jobs.clone(), running.clone(), most.clone());
            handles.push(tokio::spawn(async move {
                jobs.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    // Long enough for the others to try to start alongside.
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i * 10
                })
                .await
            }));
        }
        let mut got = Vec::new();
        for h in handles {
            got.push(h.await.unwrap().unwrap());
        }
        assert_eq!(got, (0..8).map(|i| i * 10).collect::<Vec<_>>());
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "{most:?} jobs ran at once"
        );
    }

    /// A job that holds the only core until `release` is sent; it has the
    /// core when this returns.
    async fn hold_the_only_core(
        jobs: &CpuJobs,
    ) -> (
        mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<bool, ApiError>>,
    ) {
        let (release, wait) = mpsc::channel::<()>();
        let first = tokio::spawn({
            let jobs = jobs.clone();
            async move { jobs.run(move || wait.recv().is_ok()).await }
        });
        while jobs.queue.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        (release, first)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_queue_bound_a_job_is_refused_and_told_when_to_retry() {
        let jobs = CpuJobs::bounded(1, 2);
        let (release, first) = hold_the_only_core(&jobs).await;
        let queued: Vec<_> = (0..2)
            .map(|i| {
                let jobs = jobs.clone();
                tokio::spawn(async move { jobs.run(move || i).await })
            })
            .collect();
        while jobs.queue.waiting.load(Ordering::SeqCst) < 2 {
            tokio::task::yield_now().await;
        }
        let refused = jobs.run(|| 9).await.unwrap_err();
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.retry_after, Some(1));
        assert!(
            refused.error.contains("2 requests are waiting their turn"),
            "{}",
            refused.error
        );
        release.send(()).unwrap();
        assert!(first.await.unwrap().unwrap());
        for (i, q) in queued.into_iter().enumerate() {
            assert_eq!(q.await.unwrap().unwrap(), i);
        }
        // The queue emptied: places were given back, a new job runs.
        assert_eq!(jobs.queue.waiting.load(Ordering::SeqCst), 0);
        assert_eq!(jobs.run(|| 7).await.unwrap(), 7);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_whose_client_left_while_it_waited_never_runs() {
        let jobs = CpuJobs::with(1);
        let (release, first) = hold_the_only_core(&jobs).await;
        let ran = Arc::new(AtomicBool::new(false));
        let second = tokio::spawn({
            let (jobs, ran) = (jobs.clone(), ran.clone());
            async move { jobs.run(move || ran.store(true, Ordering::SeqCst)).await }
        });
        tokio::task::yield_now().await;
        second.abort(); // the client went away
        assert!(second.await.unwrap_err().is_cancelled());
        release.send(()).unwrap();
        assert!(first.await.unwrap().unwrap());
        // The core is free again and a new job runs; the abandoned one did not.
        assert_eq!(jobs.run(|| 7).await.unwrap(), 7);
        assert!(!ran.load(Ordering::SeqCst));
        assert_eq!(
            jobs.queue.waiting.load(Ordering::SeqCst),
            0,
            "its place was given back"
        );
    }
}
