"""The gRPC API of sqsfast (package ``sqsfast.v1``): protobuf messages and the service stub.

``queue_pb2*`` are generated from ``proto/sqsfast/v1/queue.proto`` by grpcio-tools and checked in;
``tests/test_grpc_stubs.py`` regenerates them and fails if they drifted. Regenerate with::

    python -m grpc_tools.protoc -I proto --python_out=python --pyi_out=python \\
        --grpc_python_out=python proto/sqsfast/v1/queue.proto
"""
