"""Outcomes asserted in nbs/08_isometry.ipynb: each `run(seed)` recomputes a cell's numbers with the cell's seed
replaced by `seed`."""
import torch
from spread import Check, mnist
from kaiming_nb.core import torch_settings
from kaiming_nb.init import init_weights_
from kaiming_nb.deep import plain_mlp, plain_cnn
from kaiming_nb.deep import depth_run
from kaiming_nb.isometry import (_critical_sw2, _critical_init_, _set_act_, _preact_q, _q_path, q_star, chi,
                                 jacobian_spectrum, _spectrum_stats, _net_spectrum)

NB = '08_isometry.ipynb'

def run_sign_fix(seed):
    torch.manual_seed(seed)
    qrs = [torch.linalg.qr(torch.randn(4, 4)) for _ in range(2000)]
    return dict(diag_unfixed=torch.stack([q.diagonal() for q, r in qrs]).mean().item(),
                abs_diag_fixed=abs(torch.stack([(q * r.diagonal().sign()).diagonal() for q, r in qrs]).mean().item()))

def run_q(seed):
    sb2 = 0.05
    sw2 = _critical_sw2(sb2)
    gaps = {}
    with torch_settings(seed=seed):
        for scale in (0.3, 1., 3.):
            net = _critical_init_(_set_act_(plain_mlp(30, 1000, n_in=1000, n_out=1000), 'tanh'), sw2, sb2, 'gaussian')
            qs = _preact_q(net, scale * torch.randn(200, 1000))
            gaps[f'gap_{scale}'] = max(abs(m / p - 1) for m, p in zip(qs, _q_path(qs[0], sw2, sb2, 30)))
    return gaps

def run_chi(seed):
    sb2 = 0.05
    out = {}
    with torch_settings(seed=seed):
        for sw2 in (1.5, _critical_sw2(sb2), 2.2):
            net = _critical_init_(_set_act_(plain_mlp(30, 256, n_in=256, n_out=256), 'tanh'), sw2, sb2, 'gaussian')
            x = q_star(sw2, sb2) ** 0.5 * torch.randn(8, 256)
            out[f'ratio_{sw2:.3f}'] = _spectrum_stats(jacobian_spectrum(net, x))['mean_sq'] / chi(sw2, sb2) ** 30
    return out

def run_spectra(seed):
    st = {f'{act}_{dist}': _spectrum_stats(_net_spectrum(1000, act, dist, seed=seed))
          for act in ('relu', 'tanh') for dist in ('gaussian', 'orthogonal')}
    return dict(iso_from_1=st['tanh_orthogonal']['from_1'], iso_mean_sq=st['tanh_orthogonal']['mean_sq'],
                others_min_from_1=min(v['from_1'] for k, v in st.items() if k != 'tanh_orthogonal'))

def run_user_cnn(seed):
    x = mnist()[0][:8]
    torch.manual_seed(seed)
    kaiming_cnn = init_weights_(plain_cnn(20), 'kaiming_normal')
    iso_cnn = init_weights_(plain_cnn(20), 'isometric')
    return dict(kaiming_decades=_spectrum_stats(jacobian_spectrum(kaiming_cnn, x))['decades'],
                iso_decades=_spectrum_stats(jacobian_spectrum(iso_cnn, x))['decades'])

def run_train(seed):
    return {f'acc_{init}': depth_run('mlp', 100, init, mnist(), epochs=1, lr=0.005, give_up=0.2, seed=seed)['acc']
            for init in ('isometric', 'default')}

def run_train_full(seed):
    return {f'acc_{init}': depth_run('mlp', 200, init, mnist(full=True), epochs=1, lr=0.005, give_up=0.2,
                                     seed=seed)['acc']
            for init in ('isometric', 'default')}

CHECKS = [
    Check('isometry.sign_fix', f'{NB}#i0024', run_sign_fix,
          dict(diag_unfixed=(None, -0.1), abs_diag_fixed=(None, 0.05))),
    Check('isometry.q', f'{NB}#i0053', run_q, {f'gap_{s}': (None, 0.25) for s in (0.3, 1., 3.)}),
    Check('isometry.chi', f'{NB}#i0055', run_chi, {f'ratio_{s}': (1 / 3, 3) for s in ('1.500', '1.761', '2.200')}),
    Check('isometry.spectra', f'{NB}#i0065', run_spectra, dict(
        iso_from_1=(None, 1.5), iso_mean_sq=(0.5, 2), others_min_from_1=(10, None))),
    Check('isometry.user_cnn', f'{NB}#i0071', run_user_cnn,
          dict(kaiming_decades=(0.5, None), iso_decades=(None, 0.5))),
    Check('isometry.train', f'{NB}#i0076', run_train, dict(acc_isometric=(0.75, None), acc_default=(None, 0.2))),
    Check('isometry.train_full', f'{NB}#i0079', run_train_full,
          dict(acc_isometric=(0.8, None), acc_default=(None, 0.2)), slow=True),
]
