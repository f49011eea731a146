"""User-named feature extractors: a TorchScript file and a local Hugging Face vision folder give
the features of the module they hold, and the ``image_*`` metrics use them."""

from __future__ import annotations

import numpy as np
import pytest

from autophagy.data import DATA, make_shapes, write_image_folder
from autophagy.metrics import data_image_metrics, frechet_distance, image_metrics, kid
from autophagy.metrics.extractors import HuggingFaceFeatures, TorchScriptFeatures

torch = pytest.importorskip("torch")


def _module():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 5, 3), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten()
    ).eval()


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    path = tmp_path_factory.mktemp("extractor") / "features.pt"
    module = _module()
    torch.jit.save(torch.jit.script(module), str(path))
    return path, module


@pytest.fixture(scope="module")
def shapes_folder(tmp_path_factory):
    return write_image_folder(*make_shapes(40, size=12, seed=2), tmp_path_factory.mktemp("shapes") / "set")


def test_torchscript_features_are_the_modules_outputs(scripted):
    path, module = scripted
    rows = np.random.default_rng(0).uniform(size=(7, 3 * 12 * 12 + 1))  # a label column is dropped
    features = TorchScriptFeatures(path, (3, 12, 12), batch_size=3)(rows)
    with torch.no_grad():
        expected = module(torch.as_tensor(rows[:, :-1], dtype=torch.float32).reshape(7, 3, 12, 12))
    assert features.shape == (7, 20) and features.dtype == np.float64
    np.testing.assert_allclose(features, expected.double().numpy(), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="432 pixels"):
        TorchScriptFeatures(path, (3, 12, 12))(rows[:, :100])


def test_image_metrics_use_the_named_extractor_and_lenet_metrics_do_not(scripted, shapes_folder, tmp_path):
    path, _ = scripted
    entry = DATA["images"]
    options = {
        "path": str(shapes_folder),
        "features": "torchscript",
        "features_path": str(path),
        "trust_features": True,
        "classifier": {"epochs": 1, "cache_dir": str(tmp_path)},
    }
    data = entry.build(entry.options.model_validate(options))
    real = data.draw_reference(8, rng=np.random.default_rng(1))
    synthetic = data.draw(20, rng=np.random.default_rng(2))
    named = data_image_metrics(real, synthetic, data=data, k=3)
    extract = TorchScriptFeatures(path, (3, 12, 12))
    expected = frechet_distance(extract(real[:, :-1])[None], extract(synthetic[:, :-1])[None])
    np.testing.assert_allclose(named["fid"], expected[0], rtol=1e-10)
    np.testing.assert_allclose(
        named["kid"], kid(extract(real[:, :-1]), extract(synthetic[:, :-1])), rtol=1e-10
    )
    lenet = image_metrics(real, synthetic, data=data, k=3)
    assert lenet["fid"] != pytest.approx(named["fid"])  # lenet_* keep the classifier's features
    assert named["legibility"] == lenet["legibility"]  # legibility is always the classifier's
    same = data_image_metrics(real, real, data=data, k=3)
    assert same["fid"] == pytest.approx(0.0, abs=1e-6) and same["precision"] == same["recall"] == 1.0


@pytest.mark.slow  # torch.export traces the module: about 4 s of CPU
def test_exported_program_files_load_too(tmp_path):
    module = _module()
    batch = torch.export.Dim("batch")
    program = torch.export.export(module, (torch.zeros(2, 3, 12, 12),), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(tmp_path / "features.pt2"))
    rows = np.random.default_rng(0).uniform(size=(5, 432))
    with torch.no_grad():
        expected = module(torch.as_tensor(rows, dtype=torch.float32).reshape(5, 3, 12, 12)).double().numpy()
    np.testing.assert_allclose(
        TorchScriptFeatures(tmp_path / "features.pt2", (3, 12, 12))(rows), expected, rtol=1e-6
    )


def test_hugging_face_folder_is_loaded_locally_with_its_image_processor(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.ViTConfig(
        image_size=8,
        patch_size=4,
        num_channels=3,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
    )
    torch.manual_seed(0)
    model = transformers.ViTModel(config).eval()
    model.save_pretrained(tmp_path / "vit")
    processor_class = getattr(transformers, "ViTImageProcessorPil", transformers.ViTImageProcessor)
    processor = processor_class(size={"height": 8, "width": 8}, image_mean=[0.5] * 3, image_std=[0.5] * 3)
    processor.save_pretrained(tmp_path / "vit")
    rows = np.random.default_rng(0).uniform(size=(3, 3 * 16 * 16))  # 16 x 16: the processor resizes to 8
    features = HuggingFaceFeatures(tmp_path / "vit", (3, 16, 16))(rows)
    images = list(rows.reshape(3, 3, 16, 16).transpose(0, 2, 3, 1).astype(np.float32))
    pixels = processor(images=images, do_rescale=False, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        expected = model(pixel_values=pixels).pooler_output.double().numpy()
    assert features.shape == (3, 16)
    np.testing.assert_allclose(features, expected, rtol=1e-5, atol=1e-6)
