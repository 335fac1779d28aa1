"""Jobs, per-item sync state, the run wrapper and the scheduler."""
