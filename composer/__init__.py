"""newsletter-composer: a weekly research digest from pluggable sections."""

__version__ = "0.1.0"

#: Version of the plugin contract (hookspecs and the objects plugins register).
#: A plugin may declare ``COMPOSER_API = "1"``; another major number is refused.
PLUGIN_API_VERSION = "1"
