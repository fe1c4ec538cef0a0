// Hydrogen's own app entry (as hydrogen-web's src/main.js does it), built from the published SDK:
// Platform with olm (encryption on), RootViewModel -> login screen -> session (room list, invites, rooms).
import { Platform, RootViewModel, FeatureSet, createNavigation, createRouter } from "hydrogen-view-sdk";
import "hydrogen-view-sdk/theme-element-light.css";

const assetPaths = {
  downloadSandbox: "/assets/download-sandbox.html",
  worker: "/assets/main.js",
  olm: { wasm: "/olm/olm.wasm", wasmBundle: "/olm/olm.js", legacyBundle: "/olm/olm_legacy.js" },
  serviceWorker: "/sw.js",
};

async function main() {
  const container = document.getElementById("app");
  const config = { defaultHomeServer: new URLSearchParams(location.search).get("hs") ?? "" };
  const platform = new Platform({ container, assetPaths, config, options: { development: true } });
  window.__hydrogenPlatform = platform;
  await platform.init();
  const features = await FeatureSet.load(platform.settingsStorage);
  const navigation = createNavigation();
  platform.setNavigation(navigation);
  const urlRouter = createRouter({ navigation, history: platform.history });
  urlRouter.attach();
  const vm = new RootViewModel({ platform, urlRouter, navigation, features });
  await vm.load();
  platform.createAndMountRootView(vm);
}

main().catch((err) => { console.error(`hydrogen main failed: ${err.message}\n${err.stack}`); });
