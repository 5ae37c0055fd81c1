"""Marker names: the points in a request's life that hooks announce in the event stream.

Markers go into the same per-thread buffer as calls, so their order against calls is
exact. The server adapter, the layer probes and the tracing middleware emit them; the
thread streams cut windows at them and the stage painter places stage boundaries on them.
"""

# accept thread
ACCEPT = "accept"            # get_request is about to run: a connection is ready
ACCEPTED = "accepted"        # payload (conn_id, client "host:port")
QUEUE = "queue"              # payload conn_id: process_request hands the connection over
QUEUED = "queued"            # payload conn_id: the task is in the thread pool's queue
# worker thread
TASK = "task"                # payload conn_id: a worker took the connection's task
REQUEST = "request"          # payload (conn_id, index, trace_id): request bytes arrived
ENVIRON = "environ"          # wsgi_execute begins: the environ is being built
APP_CALL = "app-call"        # payload RequestRecord: the WSGI application is called
LAYER_ENTER = "layer-enter"  # payload LayerVisit
LAYER_EXIT = "layer-exit"    # payload LayerVisit
APP_RETURN = "app-return"    # payload RequestRecord: the application returned its body
CLOSE = "close"              # payload RequestRecord: app_iter.close() is called
REQUEST_END = "request-end"  # payload (conn_id, index, keep_alive, wire info dict)
TASK_END = "task-end"        # payload conn_id: the connection's task returned
IDLE = "idle"                # the worker asks the queue for its next task
# the tracing filter on its own, without the server adapter
ATTACHED = "attached"        # the call hook was just attached here: older frames are unknown
STANDALONE_END = "standalone-end"  # payload RequestRecord
# startup
STARTUP_STEP = "startup-step"  # payload stage name entered (command, load-server, ...)
STARTUP_END = "startup-end"    # payload dict of startup facts
