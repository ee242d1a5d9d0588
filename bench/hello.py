"""The smallest Flask app, served under the same gunicorn settings as IMS Screen: the benchmark's
yardstick, so that results are ratios that hold on any machine."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
