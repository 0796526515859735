"""The run's steps, one module per state-machine Task (MarkFailed and MarkSkipped are
finalize's error path).

Each step reads its inputs from the blob store by key and writes its outputs back, so
the state machine only carries ids, keys and counts.
"""
