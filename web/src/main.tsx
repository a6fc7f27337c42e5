import { render } from "preact";
import { App } from "./app";
import { dir, locale } from "./i18n";
import "./styles.css";
import "./stage.css";

document.documentElement.lang = locale;
document.documentElement.dir = dir;

const root = document.getElementById("app");
if (root) render(<App />, root);
