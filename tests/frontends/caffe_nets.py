"""Classic Caffe networks written out as deploy prototxts by netdraw's tests (our own text, from the
architectures' papers), to check the Caffe frontend against their published parameter totals."""

from __future__ import annotations


class Net:
    def __init__(self, name: str, shape: tuple[int, ...]) -> None:
        self.lines = [f'name: "{name}"', 'input: "data"',
                      "input_shape { " + " ".join(f"dim: {d}" for d in shape) + " }"]

    def layer(self, name: str, kind: str, bottoms: list[str] | str, top: str | None = None, **params: str) -> str:
        bottoms = [bottoms] if isinstance(bottoms, str) else bottoms
        top = top or name
        body = " ".join(f'bottom: "{b}"' for b in bottoms) + f' top: "{top}"'
        for key, val in params.items():
            body += f" {key} {{ {val} }}"
        self.lines.append(f'layer {{ name: "{name}" type: "{kind}" {body} }}')
        return top

    def conv(self, name: str, bottom: str, out: int, k: int, s: int = 1, p: int = 0, g: int = 1,
             bias: bool = True, relu: bool = True) -> str:
        extra = f" group: {g}" if g > 1 else ""
        extra += "" if bias else " bias_term: false"
        top = self.layer(name, "Convolution", bottom,
                         convolution_param=f"num_output: {out} kernel_size: {k} stride: {s} pad: {p}{extra}")
        if relu:
            self.layer(f"{name}_relu", "ReLU", top, top)
        return top

    def pool(self, name: str, bottom: str, k: int, s: int, p: int = 0, kind: str = "MAX") -> str:
        return self.layer(name, "Pooling", bottom,
                          pooling_param=f"pool: {kind} kernel_size: {k} stride: {s} pad: {p}")

    def fc(self, name: str, bottom: str, out: int, relu: bool = True) -> str:
        top = self.layer(name, "InnerProduct", bottom, inner_product_param=f"num_output: {out}")
        if relu:
            self.layer(f"{name}_relu", "ReLU", top, top)
        return top

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def alexnet() -> str:
    """BVLC AlexNet: grouped convolutions, LRN; 227×227."""
    n = Net("AlexNet", (1, 3, 227, 227))
    x = n.conv("conv1", "data", 96, 11, 4)
    x = n.layer("norm1", "LRN", x, lrn_param="local_size: 5 alpha: 0.0001 beta: 0.75")
    x = n.pool("pool1", x, 3, 2)
    x = n.conv("conv2", x, 256, 5, p=2, g=2)
    x = n.layer("norm2", "LRN", x, lrn_param="local_size: 5 alpha: 0.0001 beta: 0.75")
    x = n.pool("pool2", x, 3, 2)
    x = n.conv("conv3", x, 384, 3, p=1)
    x = n.conv("conv4", x, 384, 3, p=1, g=2)
    x = n.conv("conv5", x, 256, 3, p=1, g=2)
    x = n.pool("pool5", x, 3, 2)
    x = n.fc("fc6", x, 4096)
    n.layer("drop6", "Dropout", x, x)
    x = n.fc("fc7", x, 4096)
    n.layer("drop7", "Dropout", x, x)
    x = n.fc("fc8", x, 1000, relu=False)
    n.layer("prob", "Softmax", x)
    return n.text()


def vgg16() -> str:
    n = Net("VGG16", (1, 3, 224, 224))
    x = "data"
    for stage, (width, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], 1):
        for i in range(1, convs + 1):
            x = n.conv(f"conv{stage}_{i}", x, width, 3, p=1)
        x = n.pool(f"pool{stage}", x, 2, 2)
    x = n.fc("fc6", x, 4096)
    x = n.fc("fc7", x, 4096)
    x = n.fc("fc8", x, 1000, relu=False)
    n.layer("prob", "Softmax", x)
    return n.text()


def squeezenet() -> str:
    """SqueezeNet v1.0: fire modules (squeeze 1×1, expand 1×1 and 3×3, concatenated)."""
    n = Net("SqueezeNet", (1, 3, 227, 227))
    x = n.conv("conv1", "data", 96, 7, 2)
    x = n.pool("pool1", x, 3, 2)

    def fire(i: int, x: str, s: int, e: int) -> str:
        sq = n.conv(f"fire{i}/squeeze1x1", x, s, 1)
        a = n.conv(f"fire{i}/expand1x1", sq, e, 1)
        b = n.conv(f"fire{i}/expand3x3", sq, e, 3, p=1)
        return n.layer(f"fire{i}/concat", "Concat", [a, b])

    x = fire(2, x, 16, 64)
    x = fire(3, x, 16, 64)
    x = fire(4, x, 32, 128)
    x = n.pool("pool4", x, 3, 2)
    x = fire(5, x, 32, 128)
    x = fire(6, x, 48, 192)
    x = fire(7, x, 48, 192)
    x = fire(8, x, 64, 256)
    x = n.pool("pool8", x, 3, 2)
    x = fire(9, x, 64, 256)
    n.layer("drop9", "Dropout", x, x)
    x = n.conv("conv10", x, 1000, 1)
    x = n.layer("pool10", "Pooling", x, pooling_param="pool: AVE global_pooling: true")
    n.layer("prob", "Softmax", x)
    return n.text()


def googlenet() -> str:
    """GoogLeNet (BVLC deploy: no auxiliary classifiers): inception modules, ceil-rounded pooling."""
    n = Net("GoogLeNet", (1, 3, 224, 224))
    x = n.conv("conv1/7x7_s2", "data", 64, 7, 2, 3)
    x = n.pool("pool1/3x3_s2", x, 3, 2)
    x = n.layer("pool1/norm1", "LRN", x, lrn_param="local_size: 5 alpha: 0.0001 beta: 0.75")
    x = n.conv("conv2/3x3_reduce", x, 64, 1)
    x = n.conv("conv2/3x3", x, 192, 3, p=1)
    x = n.layer("conv2/norm2", "LRN", x, lrn_param="local_size: 5 alpha: 0.0001 beta: 0.75")
    x = n.pool("pool2/3x3_s2", x, 3, 2)

    def inception(name: str, x: str, c1: int, r3: int, c3: int, r5: int, c5: int, pp: int) -> str:
        a = n.conv(f"{name}/1x1", x, c1, 1)
        b = n.conv(f"{name}/3x3", n.conv(f"{name}/3x3_reduce", x, r3, 1), c3, 3, p=1)
        c = n.conv(f"{name}/5x5", n.conv(f"{name}/5x5_reduce", x, r5, 1), c5, 5, p=2)
        d = n.conv(f"{name}/pool_proj", n.pool(f"{name}/pool", x, 3, 1, 1), pp, 1)
        return n.layer(f"{name}/output", "Concat", [a, b, c, d])

    x = inception("inception_3a", x, 64, 96, 128, 16, 32, 32)
    x = inception("inception_3b", x, 128, 128, 192, 32, 96, 64)
    x = n.pool("pool3/3x3_s2", x, 3, 2)
    x = inception("inception_4a", x, 192, 96, 208, 16, 48, 64)
    x = inception("inception_4b", x, 160, 112, 224, 24, 64, 64)
    x = inception("inception_4c", x, 128, 128, 256, 24, 64, 64)
    x = inception("inception_4d", x, 112, 144, 288, 32, 64, 64)
    x = inception("inception_4e", x, 256, 160, 320, 32, 128, 128)
    x = n.pool("pool4/3x3_s2", x, 3, 2)
    x = inception("inception_5a", x, 256, 160, 320, 32, 128, 128)
    x = inception("inception_5b", x, 384, 192, 384, 48, 128, 128)
    x = n.pool("pool5/7x7_s1", x, 7, 1, kind="AVE")
    n.layer("pool5/drop_7x7_s1", "Dropout", x, x)
    x = n.fc("loss3/classifier", x, 1000, relu=False)
    n.layer("prob", "Softmax", x)
    return n.text()


def resnet50() -> str:
    """ResNet-50 as Kaiming He's Caffe release writes it: Convolution (no bias) + BatchNorm + Scale."""
    n = Net("ResNet-50", (1, 3, 224, 224))

    def cbs(name: str, x: str, out: int, k: int, s: int = 1, p: int = 0, relu: bool = True) -> str:
        x = n.conv(name, x, out, k, s, p, bias=False, relu=False)
        n.layer(f"bn_{name}", "BatchNorm", x, x)
        n.layer(f"scale_{name}", "Scale", x, x, scale_param="bias_term: true")
        if relu:
            n.layer(f"{name}_relu", "ReLU", x, x)
        return x

    x = cbs("conv1", "data", 64, 7, 2, 3)
    x = n.pool("pool1", x, 3, 2)
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)], 2):
        for b in range(blocks):
            name = f"res{stage}{chr(ord('a') + b)}"
            stride = 2 if b == 0 and stage > 2 else 1
            short = cbs(f"{name}_branch1", x, width * 4, 1, stride, relu=False) if b == 0 else x
            y = cbs(f"{name}_branch2a", x, width, 1, stride)
            y = cbs(f"{name}_branch2b", y, width, 3, 1, 1)
            y = cbs(f"{name}_branch2c", y, width * 4, 1, relu=False)
            x = n.layer(name, "Eltwise", [short, y])
            n.layer(f"{name}_relu", "ReLU", x, x)
    x = n.pool("pool5", x, 7, 1, kind="AVE")
    x = n.fc("fc1000", x, 1000, relu=False)
    n.layer("prob", "Softmax", x)
    return n.text()


#: name -> (prototxt, published parameter total, a layer and its published output shape)
CLASSICS = {
    "alexnet": (alexnet, 60_965_224, ("pool5", (1, 256, 6, 6))),
    "vgg16": (vgg16, 138_357_544, ("pool5", (1, 512, 7, 7))),
    "squeezenet": (squeezenet, 1_248_424, ("pool8", (1, 512, 13, 13))),
    "googlenet": (googlenet, 6_998_552, ("pool4/3x3_s2", (1, 832, 7, 7))),
    "resnet50": (resnet50, 25_557_032, ("res5c", (1, 2048, 7, 7))),
}
