"""WSGI entry point of the benchmarks: OneGrid built with the configuration the script prepared.

The script passes it as JSON in BENCH_APP_CONFIG (database URL, secret, bench settings).
"""

import json
import os

from app import create_app

app = create_app(json.loads(os.environ["BENCH_APP_CONFIG"]))
