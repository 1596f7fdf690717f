"""A minimal Flask app with one page: the yardstick the board's throughput is compared with."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
