"""Glance, the OpenStack Image Service (image API v1 and v2)."""
from setuptools import find_packages, setup

setup(
    name="glance",
    version="2011.3.1",
    description="OpenStack Image Service: the v1 and v2 image APIs, registry and stores",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.11",
    package_dir={"": "app"},
    packages=find_packages("app"),
    include_package_data=True,
    package_data={"glance": ["migrations/*.mako"]},
    install_requires=[
        "flask>=2.2",
        "waitress>=2.1",
        "cheroot>=9.0",
        "sqlalchemy>=1.4.46",
        "alembic>=1.8",
        "requests>=2.28",
        "xxhash>=3.0",     # the fast checksum downloads verify (CRC-32 without it)
    ],
    extras_require={
        "mysql": ["pymysql>=1.0"],
        "postgresql": ["psycopg2>=2.9"],
        "swift": ["python-swiftclient>=4.1"],
        "s3": ["boto3>=1.26"],
        "client": ["python-glanceclient>=4.1"],
        # auth_strategy = keystone (keystoneauth1 and oslo.config come with it)
        "keystone": ["keystonemiddleware>=10.1"],
        "rabbit": ["kombu>=5.2"],
    },
    entry_points={
        "console_scripts": [
            "glance-api = glance.cmd.api:main",
            "glance-registry = glance.cmd.registry:main",
            "glance-manage = glance.cmd.manage:main",
            "glance-control = glance.cmd.control:main",
            "glance-scrubber = glance.cmd.scrubber:main",
            "glance-cache-prefetcher = glance.cmd.cache_prefetcher:main",
            "glance-cache-pruner = glance.cmd.cache_pruner:main",
            "glance-cache-reaper = glance.cmd.cache_reaper:main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Operating System :: POSIX :: Linux",
    ],
)
