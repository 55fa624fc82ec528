//! Term libraries, sparse regression, analysis increments and closures (to come: issues 5 and 6).
