# One image for all six services; the command picks the service (python -m services.<name>).
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY libs ./libs
COPY services ./services
COPY protos ./protos
RUN pip install --no-cache-dir . grpcio-tools==1.85.1 \
 && python -m grpc_tools.protoc -I protos --python_out=libs --grpc_python_out=libs --pyi_out=libs protos/hangar_protos/*.proto \
 && touch libs/hangar_protos/__init__.py
ENV PYTHONPATH=/app/libs:/app PYTHONUNBUFFERED=1 HANGAR_HTTP_HOST=0.0.0.0
USER 65534:65534
EXPOSE 8000 50051
CMD ["python", "-m", "services.gateway"]
