//! portplan verify stage: probe paths (TCP, UDP with protocol-aware probes),
//! answer probes before the product is installed, and read the host's
//! listeners. Everything here returns data; the cli prints it.

pub mod duration;
pub mod engine;
pub mod flows;
pub mod icmp;
pub mod limits;
pub mod listeners;
pub mod merge;
pub mod merge_html;
pub mod merge_out;
pub mod pktinfo;
pub mod progress;
pub mod report;
pub mod responder;
pub mod spec;
pub mod state;
pub mod tcp;
pub mod tcp_scan;
pub mod token;
pub mod udp;
pub mod udp_protocols;

pub use engine::{Config, Probed, Target};
pub use state::{Expect, Finding, State};
pub use token::Secret;
