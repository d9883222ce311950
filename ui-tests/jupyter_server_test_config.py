"""Server configuration for the Galata UI tests.

!! Never use this configuration in production: it opens the server to anyone and
exposes JupyterLab's JavaScript objects through the global window variable.
"""

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)

# CI machines run the tests as root.
c.ServerApp.allow_root = True
c.ServerApp.ip = "127.0.0.1"
