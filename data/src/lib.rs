//! The on-disk schema: HDF5 snapshots, diagnostics time series and checkpoints (to come: issue 3).
