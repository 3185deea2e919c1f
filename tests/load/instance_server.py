"""One app instance in its own process, as behind a load balancer: settings from the
FEEDBACK_* environment, a threaded server on 127.0.0.1 and a free port, printed first.

Run as ``python -m tests.load.instance_server``; SIGINT stops it.
"""

from __future__ import annotations

from werkzeug.serving import make_server

from feedback import create_app


def main() -> None:
    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    print(server.server_port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
