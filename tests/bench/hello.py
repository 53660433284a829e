"""The baseline of the load test: a bare Flask hello world, served like the intake (make bench)."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
