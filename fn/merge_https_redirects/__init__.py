"""merge-https-redirects: make cert-manager HTTP-01 challenges pass through Istio gateways."""

__version__ = "0.2.0"
