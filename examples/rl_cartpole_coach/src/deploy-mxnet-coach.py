"""An MXNet inference handler in the style of SageMaker's Coach notebooks (written for rlops)."""
import json

import mxnet as mx


def model_fn(model_dir):
    return mx.mod.Module.load(model_dir, 0)


def transform_fn(net, data, input_content_type, output_content_type):
    return json.dumps(net.predict(mx.nd.array(json.loads(data))).asnumpy().tolist()), output_content_type
