"""PylonsConfig.init_app: how the ini file's two sections become one config dict."""

from framework.configuration import PylonsConfig


def make_config(global_conf=None, app_conf=None, **kwargs):
    config = PylonsConfig()
    config.init_app(global_conf or {}, app_conf or {}, **kwargs)
    return config


def test_app_conf_overrides_global_conf_and_both_stay_available():
    config = make_config(
        {"debug": "true", "shared": "global", "only_global": "g"},
        {"shared": "app", "only_app": "a"},
    )
    assert config["shared"] == "app"
    assert config["only_global"] == "g"
    assert config["only_app"] == "a"
    assert config["global_conf"] == {"debug": "true", "shared": "global", "only_global": "g"}
    assert config["app_conf"] == {"shared": "app", "only_app": "a"}


def test_debug_is_a_bool_even_when_the_ini_says_false():
    assert make_config({"debug": "false"})["debug"] is False
    assert make_config({"debug": "true"})["debug"] is True
    assert make_config({}, {"debug": "off"})["debug"] is False
    assert make_config()["debug"] is False
    assert make_config({"debug": "true"})["pylons.errorware"]["debug"] is True


def test_package_and_paths_are_stored():
    paths = {"root": "/app", "controllers": "/app/controllers", "templates": ["/app/t"]}
    config = make_config(package="demo", paths=paths)
    assert config["pylons.package"] == "demo"
    assert config["pylons.paths"]["controllers"] == "/app/controllers"
    assert config["pylons.paths"]["templates"] == ["/app/t"]
    assert config["pylons.paths"]["static_files"] is None  # default kept


def test_pylons_defaults():
    config = make_config()
    options = config["pylons.response_options"]
    assert options["content_type"] == "text/html"
    assert options["charset"] == "utf-8"
    assert config["pylons.environ_config"]["session"] == "beaker.session"
    assert config["pylons.tmpl_context_attach_args"] is True


def test_cache_dir_sets_beaker_directories_unless_given():
    config = make_config({}, {"cache_dir": "/tmp/x", "beaker.cache.data_dir": "/elsewhere"})
    assert config["beaker.session.data_dir"] == "/tmp/x/sessions"
    assert config["beaker.cache.data_dir"] == "/elsewhere"
    assert "beaker.session.data_dir" not in make_config()


def test_instances_do_not_share_default_dicts():
    first, second = PylonsConfig(), PylonsConfig()
    first["pylons.response_options"]["charset"] = "latin-1"
    assert second["pylons.response_options"]["charset"] == "utf-8"
