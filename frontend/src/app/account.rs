//! The account corner (sign in with a token or at the server's OIDC issuer, sign out) and the
//! banners about the server.

use super::{State, feed};
use crate::api;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub(super) fn Account() -> impl IntoView {
    let state = expect_context::<State>();
    // Before the first connect (which runs after this): a token handed in by the issuer's
    // sign-in or a portal is the one it signs in with.
    api::adopt_token_from_location();
    let token = RwSignal::new(String::new());
    let issuer = RwSignal::new(None::<tycho_api::OidcSignIn>);
    spawn_local(async move {
        if let Ok(options) = api::sign_in_options().await {
            issuer.set(options.oidc);
        }
    });
    let sign_in_at_issuer = move |_| {
        if let Some(url) = issuer.with_untracked(|i| i.as_ref().map(|i| i.login_url.clone()))
            && let Some(w) = web_sys::window()
        {
            let _ = w.location().set_href(&url);
        }
    };
    let sign_in = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let t = token.get_untracked();
        api::set_token(Some(t.trim()));
        token.set(String::new());
        spawn_local(feed::connect(state));
    };
    let sign_out = move |_| {
        state.user.set(None);
        state.admin.set(false);
        // What this user may see is not for whoever signs in next.
        state.systems.set(Vec::new());
        state.systems_known.set(false);
        spawn_local(async move {
            // The cookie goes too, or the systems' pages would stay open to this browser.
            let _ = api::close_session().await;
            api::set_token(None);
            feed::connect(state).await;
        });
    };
    view! {
        <div class="account">
            <Show when=move || state.auth_required.get()>
                {move || issuer.get().map(|i| view! {
                    <button type="button" class="primary sign-in-issuer" on:click=sign_in_at_issuer>
                        "Sign in with " {i.name}
                    </button>
                })}
                <form class="sign-in" on:submit=sign_in>
                    <label for="token">"Token"</label>
                    <input id="token" type="password" autocomplete="current-password"
                        placeholder="API token" required
                        prop:value=move || token.get()
                        on:input=move |ev| token.set(event_target_value(&ev)) />
                    <button type="submit">"Sign in"</button>
                </form>
            </Show>
            {move || state.user.get().map(|u| view! {
                <span class="user">"Signed in as " <b>{u}</b></span>
                <Show when=move || api::token().is_some()>
                    <button class="link" on:click=sign_out>"Sign out"</button>
                </Show>
            })}
        </div>
    }
}

#[component]
pub(super) fn Banner() -> impl IntoView {
    let state = expect_context::<State>();
    move || {
        let auth = state.auth_required.get().then(|| view! {
            <div class="banner warn" role="status">
                "This server requires signing in: sign in above to launch and see systems. The editor and preview work without it."
            </div>
        });
        let cluster = match state.cluster.get() {
            Some((false, _, message)) => Some(view! {
                <div class="banner" role="status" id="no-cluster">
                    <b>"No cluster configured."</b>
                    " Editing, validation and preview work; launching needs a Kubernetes cluster. "
                    "To launch, restart the server with one: "
                    <code>"scripts/run.sh --kubeconfig ~/.kube/config --namespace NS"</code>
                    ", or install it in the cluster (kubernetes/README.md)."
                    <details><summary>"Details"</summary><p class="muted">{message}</p></details>
                </div>
            }.into_any()),
            Some((true, false, message)) => Some(view! {
                <div class="banner" role="status" id="no-cluster">
                    <b>"The cluster does not answer."</b>
                    " Editing and preview work; launching fails until it is back. Check that the cluster "
                    "is up and that the server's credentials are still valid; this page checks again by itself."
                    <details><summary>"Details"</summary><p class="muted">{message}</p></details>
                </div>
            }.into_any()),
            _ => None,
        };
        view! { {auth} {cluster} }
    }
}
