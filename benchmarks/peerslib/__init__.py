"""The parts of benchmarks/peers.py: the arms and the answer rule (score), the three
servers (servers), and what it prints and draws (report)."""
