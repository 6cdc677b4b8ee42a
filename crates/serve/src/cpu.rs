//! CPU-bound jobs (search, check, plan, render) on at most one thread per
//! core, first come first served. Handed straight to `spawn_blocking`, 200
//! concurrent searches ran as 200 threads sharing 2 cores: none finished
//! until nearly all did, the async threads serving the cheap pages starved,
//! and a job whose client had gone kept its share. Queued here instead, a
//! job runs at full speed once started, and a client that leaves while
//! its job waits takes the job out of the queue. (Child `portplan` jobs
//! have their own such limit, in engine.rs.)

use crate::http::error::ApiError;
use axum::http::StatusCode;
use std::sync::Arc;
use tokio::sync::Semaphore;

#[derive(Clone)]
pub struct CpuJobs {
    permits: Arc<Semaphore>,
}

impl CpuJobs {
    pub fn new() -> CpuJobs {
        CpuJobs::with(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }

    /// At most `n` jobs at once.
    pub fn with(n: usize) -> CpuJobs {
        CpuJobs {
            permits: Arc::new(Semaphore::new(n.max(1))),
        }
    }

    /// Runs `job` on a blocking thread once a core is free (tokio's
    /// semaphore is fair: jobs start in the order they came).
    pub async fn run<T, F>(&self, job: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self.permits.clone().acquire_owned().await.map_err(|_| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping")
        })?;
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_job_whose_client_left_while_it_waited_never_runs() {
        let jobs = CpuJobs::with(1);
        let (release, wait) = mpsc::channel::<()>();
        let first = tokio::spawn({
            let jobs = jobs.clone();
            async move { jobs.run(move || wait.recv().is_ok()).await }
        });
        // The first job holds the only core once the second one queues.
        while jobs.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
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
    }
}
