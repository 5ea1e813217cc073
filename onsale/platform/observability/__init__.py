"""What onsale tells its operators: JSON logs, Prometheus metrics, New Relic
events and gauges, the health probes and the staff status page."""
