# One image for every tocsin service (detector, notifier, simulator) and for the Spark master and worker,
# so driver and executors run the same Python, the same pyspark and the same tocsin code.
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
 && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \
    PYSPARK_PYTHON=python3 \
    PYTHONUNBUFFERED=1
WORKDIR /opt/tocsin
COPY pyproject.toml README.md ./
COPY detector detector
COPY models models
COPY alerts alerts
COPY simulator simulator
RUN pip install --no-cache-dir .
ENV SPARK_HOME=/usr/local/lib/python3.11/site-packages/pyspark
ENTRYPOINT ["tocsin"]
CMD ["--help"]
