"""The execution-analysis walkthrough, written from a live run.

The seeds' hand-written "Pylons Execution Analysis" went stale with every release; this
package regenerates it: `live` serves the application traced and fetches the requested
paths, `facts` and `steps` turn the run into facts and numbered steps, `document`
renders them through the Mako templates beside it, and `command` is `pylon-trace
walkthrough`.
"""
